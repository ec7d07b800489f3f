//! Planning, done once per network and input shape: shapes are inferred, batch norm is folded
//! into convolution weights and bias, bias/ReLU/ReLU6 and residual adds are fused into the
//! producing convolution's store, every convolution is packed for the algorithm the kernels
//! select, a depthwise convolution with a large input runs with its 1x1 neighbours band by band
//! of rows (`band`), and every activation gets a slot in one arena by liveness, with concat
//! inputs written straight into their channel slice of the concat output.

mod awake;
mod band;
mod build;
mod memory;
mod options;
mod step;
mod workspace;

use lineage_kernels::{nchw_to_nhwc, Isa, Shape, TensorView, TensorViewMut};

use crate::error::{NetError, Result};

pub use options::{PlanOptions, DEFAULT_MAX_ARENA_BYTES};
pub use workspace::{max_threads, Threads, Workspace, THREADS_PER_CORE};

pub(crate) use step::{Kind, Slot, Step};

/// The input of one run: a dense tensor of the plan's input shape in either layout.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// `[n][c][h][w]`, as PyTorch and NumPy hold images.
    Nchw(&'a [f32]),
    /// `[n][h][w][c]`, the engine's own layout (copied as is).
    Nhwc(&'a [f32]),
}

/// A network ready to run: immutable, `Send + Sync`, shared by any number of threads that
/// each bring their own [`Workspace`].
#[derive(Debug)]
pub struct Plan {
    pub(crate) name: String,
    /// The ISA every step runs on ([`PlanOptions::isa`]).
    pub(crate) isa: Isa,
    pub(crate) steps: Vec<Step>,
    pub(crate) input: Slot,
    pub(crate) output: Slot,
    /// The activations of [`PlanOptions::outputs`], by the names given there.
    pub(crate) kept: Vec<(String, Slot)>,
    pub(crate) arena_len: usize,
    /// Floats of scratch one thread needs: the convolutions' and each band chain's.
    pub(crate) scratch_len: usize,
    /// Floats of scratch per thread for the widest band chain (0 without chains).
    pub(crate) band_len: usize,
}

/// One line of a plan's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInfo {
    pub name: String,
    /// `conv`, `conv+add`, `maxpool`, ...
    pub kind: &'static str,
    /// The convolution algorithm the kernels selected, if a convolution.
    pub algorithm: Option<&'static str>,
    pub output: Shape,
}

impl Plan {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The NHWC input shape the plan was made for.
    pub fn input_shape(&self) -> Shape {
        self.input.shape
    }

    /// The ISA the plan runs on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    pub fn output_shape(&self) -> Shape {
        self.output.shape
    }

    /// Bytes of the activation arena (one per workspace).
    pub fn arena_bytes(&self) -> usize {
        (self.arena_len + self.scratch_len) * 4
    }

    /// Bytes of packed convolution weights and fully connected weights.
    pub fn packed_weight_bytes(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match &s.kind {
                Kind::Conv { conv, .. } => conv.packed_bytes(),
                Kind::Band(chain) => chain.packed_bytes(),
                Kind::Linear { fc, .. } => fc.packed_bytes(),
                _ => 0,
            })
            .sum()
    }

    /// The steps in execution order.
    pub fn steps(&self) -> Vec<StepInfo> {
        self.steps
            .iter()
            .map(|s| StepInfo {
                name: s.name.clone(),
                kind: s.kind.name(),
                algorithm: match &s.kind {
                    Kind::Conv { conv, .. } => Some(conv.algorithm().name()),
                    Kind::Band(_) => Some("banded"),
                    _ => None,
                },
                output: s.output.shape,
            })
            .collect()
    }

    /// The names of the activations kept besides the output ([`PlanOptions::outputs`]).
    pub fn kept_names(&self) -> impl Iterator<Item = &str> {
        self.kept.iter().map(|(n, _)| n.as_str())
    }

    /// The kept activation `name` (NHWC) as the last [`Plan::run`] on `workspace` left it.
    pub fn kept<'w>(&self, workspace: &'w Workspace, name: &str) -> Result<TensorView<'w>> {
        workspace.check(self)?;
        let Some(&(_, slot)) = self.kept.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = self.kept_names().collect();
            return Err(NetError::Input(format!(
                "{}: {name:?} is not a kept activation (kept: {})",
                self.name,
                names.join(", ")
            )));
        };
        TensorView::with_pitch(&workspace.arena[slot.offset..], slot.shape, slot.pitch)
            .map_err(NetError::kernel(name))
    }

    /// Runs the network on `input` and returns a view of the output (NHWC, `(n, 1, 1, classes)`
    /// for a classifier) inside `workspace`. Runs on the workspace's threads, which spin for
    /// work until the run ends instead of sleeping between its steps; the result is bitwise
    /// identical for any thread count. Allocates nothing when called from inside the
    /// workspace's pool; called from outside, rayon's injection queue allocates one block per
    /// 63 calls (see [`Workspace::pool`]).
    pub fn run<'w>(&self, input: Input<'_>, workspace: &'w mut Workspace) -> Result<TensorView<'w>> {
        workspace.check(self)?;
        let Workspace { arena, scratch, pool } = workspace;
        let arena = &mut arena[..self.arena_len];
        self.write_input(input, arena)?;
        pool.install(|| {
            awake::with_threads_awake(|| self.steps.iter().try_for_each(|s| s.run(self.isa, arena, scratch)))
        })?;
        let out = self.output;
        TensorView::with_pitch(&arena[out.offset..], out.shape, out.pitch).map_err(NetError::kernel("output"))
    }

    /// [`Plan::run`] that also adds each step's wall time in seconds to `seconds[step]` (in
    /// the order of [`Plan::steps`]); allocates nothing either.
    pub fn run_profiled<'w>(
        &self,
        input: Input<'_>,
        workspace: &'w mut Workspace,
        seconds: &mut [f64],
    ) -> Result<TensorView<'w>> {
        if seconds.len() != self.steps.len() {
            return Err(NetError::Input(format!(
                "{}: {} timing slots for {} steps",
                self.name,
                seconds.len(),
                self.steps.len()
            )));
        }
        workspace.check(self)?;
        let Workspace { arena, scratch, pool } = workspace;
        let arena = &mut arena[..self.arena_len];
        self.write_input(input, arena)?;
        pool.install(|| {
            awake::with_threads_awake(|| {
                self.steps.iter().zip(seconds.iter_mut()).try_for_each(|(s, t)| {
                    let start = std::time::Instant::now();
                    s.run(self.isa, arena, scratch)?;
                    *t += start.elapsed().as_secs_f64();
                    Ok::<(), NetError>(())
                })
            })
        })?;
        let out = self.output;
        TensorView::with_pitch(&arena[out.offset..], out.shape, out.pitch).map_err(NetError::kernel("output"))
    }

    fn write_input(&self, input: Input<'_>, arena: &mut [f32]) -> Result<()> {
        let slot = self.input;
        let want = slot.shape.n * slot.shape.h * slot.shape.w * slot.shape.c;
        let (data, nchw) = match input {
            Input::Nchw(d) => (d, true),
            Input::Nhwc(d) => (d, false),
        };
        if data.len() != want {
            let s = slot.shape;
            return Err(NetError::Input(format!(
                "{}: input of {} floats, the plan expects {want} (n={}, c={}, h={}, w={})",
                self.name,
                data.len(),
                s.n,
                s.c,
                s.h,
                s.w
            )));
        }
        let dst = &mut arena[slot.offset..slot.offset + want];
        if nchw {
            let mut view = TensorViewMut::new(dst, slot.shape).map_err(NetError::kernel("input"))?;
            nchw_to_nhwc(data, slot.shape, &mut view).map_err(NetError::kernel("input"))
        } else {
            dst.copy_from_slice(data);
            Ok(())
        }
    }
}
