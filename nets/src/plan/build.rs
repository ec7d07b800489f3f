//! [`Plan::new`]: fusion, buffer aliasing, liveness and packing.

use std::borrow::Cow;

use lineage_kernels::conv::select::select;
use lineage_kernels::ops::{BatchNorm, FullyConnected, LrnParams, Pool2dParams};
use lineage_kernels::{Activation, Algorithm, Conv2d, Padding, Shape};

use super::band::{BandChain, Layer};
use super::memory::{assign_offsets, Lifetime};
use super::{Kind, Plan, PlanOptions, Slot, Step};
use crate::error::{NetError, Result};
use crate::graph::{Net, Node, Op, PoolSpec};
use crate::weights::Weights;

/// Where a value lives before arena offsets are known: a buffer, a channel offset in it and the
/// buffer's pixel pitch.
#[derive(Clone, Copy, Debug)]
struct Loc {
    buffer: usize,
    channel: usize,
    pitch: usize,
}

impl Plan {
    /// Plans `net` with `weights` for inputs of NHWC shape `input` (batch `input.n`).
    /// Tensors in `weights` that the network does not use are ignored (see [`Weights::check`]).
    pub fn new(net: &Net, weights: &Weights, input: Shape) -> Result<Plan> {
        Self::with_options(net, weights, input, &PlanOptions::default())
    }

    /// [`Plan::new`] with explicit [`PlanOptions`] (ISA, exact mode).
    pub fn with_options(net: &Net, weights: &Weights, input: Shape, options: &PlanOptions) -> Result<Plan> {
        Self::build(net, &mut &*weights, input, options)
    }

    /// [`Plan::new`] that consumes the weights, freeing each tensor once it is packed: the peak
    /// memory of planning is then about the weights once, not the weights plus their packed
    /// copy.
    pub fn from_weights(net: &Net, weights: Weights, input: Shape) -> Result<Plan> {
        Self::from_weights_with(net, weights, input, &PlanOptions::default())
    }

    /// [`Plan::from_weights`] with explicit [`PlanOptions`].
    pub fn from_weights_with(
        net: &Net,
        mut weights: Weights,
        input: Shape,
        options: &PlanOptions,
    ) -> Result<Plan> {
        Self::build(net, &mut weights, input, options)
    }

    fn build<'a>(
        net: &Net,
        weights: &mut impl Source<'a>,
        input: Shape,
        options: &PlanOptions,
    ) -> Result<Plan> {
        options.check(net.name())?;
        let shapes = options.check_shapes(net, input)?;
        weights.check_net(net)?;
        let nodes = net.nodes();
        let n = nodes.len();
        let output = net.output().index();
        let kept = options.output_nodes(net)?;
        let is_kept = |v: usize| kept.iter().any(|&(_, k)| k == v);
        let mut consumers = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            for v in node.inputs() {
                consumers[v.index()].push(i);
            }
        }

        // Fusion: an add whose input is a convolution with no activation, used only by the add,
        // becomes that convolution's epilogue (the residual is the add's other input).
        let mut fused_add: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut fused_conv = vec![false; n];
        for (i, node) in nodes.iter().enumerate() {
            if !matches!(node.op(), Op::Add { .. }) {
                continue;
            }
            for k in 0..2 {
                let (c, r) = (node.inputs()[k].index(), node.inputs()[1 - k].index());
                let plain_conv = matches!(nodes[c].op(), Op::Conv { act: Activation::None, .. });
                if plain_conv && c != r && c != output && !is_kept(c) && consumers[c] == [i] && !fused_conv[c]
                {
                    fused_add[i] = Some((c, r));
                    fused_conv[c] = true;
                    break;
                }
            }
        }
        // Values that are the input's buffer reinterpreted: flatten of a 1x1 map.
        let flatten_alias: Vec<bool> = nodes
            .iter()
            .map(|node| {
                matches!(node.op(), Op::Flatten) && {
                    let x = shapes[node.inputs()[0].index()];
                    x.h == 1 && x.w == 1
                }
            })
            .collect();
        // The values each value's own step reads (empty for values without a step).
        let reads: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                if let Some((c, r)) = fused_add[i] {
                    vec![nodes[c].inputs()[0].index(), r]
                } else if fused_conv[i] || flatten_alias[i] || matches!(nodes[i].op(), Op::Input | Op::Concat)
                {
                    Vec::new()
                } else {
                    nodes[i].inputs().iter().map(|v| v.index()).collect()
                }
            })
            .collect();
        let has_step = |i: usize| !reads[i].is_empty();

        // Zero-copy concat: an input whose step writes nothing else goes straight into its
        // channel slice, and so does an inner concat with everything placed in it: DenseNet's
        // chain cat_M = concat(cat_{M-1}, new_M) then lives in one buffer per block, each cat a
        // prefix view of the last. Not when a step writing into the buffer reads a value placed
        // in it (that read would overlap the write).
        let is_concat = |x: usize| matches!(nodes[x].op(), Op::Concat);
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; n];
        // The values placed in each concat's channels, transitively.
        let mut contents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            if !is_concat(i) {
                continue;
            }
            let mut inside: Vec<usize> = Vec::new();
            let mut channel = 0;
            for v in node.inputs() {
                let x = v.index();
                let once = node.inputs().iter().filter(|u| u.index() == x).count() == 1;
                let placed: Vec<usize> = std::iter::once(x).chain(contents[x].iter().copied()).collect();
                let reads_any =
                    |a: &[usize], b: &[usize]| a.iter().any(|&y| reads[y].iter().any(|r| b.contains(r)));
                let independent = !reads_any(&placed, &inside) && !reads_any(&inside, &placed);
                if (has_step(x) || is_concat(x)) && parent[x].is_none() && x != output && once && independent
                {
                    parent[x] = Some((i, channel));
                    inside.extend(placed);
                }
                channel += shapes[x].c;
            }
            contents[i] = inside;
        }

        // Buffers: one per value that owns its storage.
        let mut sizes: Vec<usize> = Vec::new();
        let mut loc: Vec<Option<Loc>> = vec![None; n];
        for i in 0..n {
            if fused_conv[i] || flatten_alias[i] || parent[i].is_some() {
                continue;
            }
            let len = shapes[i].elements().map_err(NetError::kernel(nodes[i].name()))?;
            loc[i] = Some(Loc { buffer: sizes.len(), channel: 0, pitch: shapes[i].c });
            sizes.push(len);
        }
        // A concat comes after its inputs: placing from the last value down places every
        // concat (an inner one inside its outer one) before its inputs.
        for i in (0..n).rev() {
            if let Some((c, channel)) = parent[i] {
                let at = loc[c].ok_or_else(|| internal(nodes[i].name(), "concat without a buffer"))?;
                loc[i] = Some(Loc { channel: at.channel + channel, ..at });
            }
        }
        for i in 0..n {
            if flatten_alias[i] {
                loc[i] = loc[nodes[i].inputs()[0].index()];
            }
        }
        let slot = |v: usize| -> Result<(Slot, usize)> {
            let l = loc[v].ok_or_else(|| internal(nodes[v].name(), "value without a location"))?;
            Ok((Slot { offset: l.channel, shape: shapes[v], pitch: l.pitch }, l.buffer))
        };

        // Steps, each with the buffers of the slots it visits (see Step::for_each_slot_mut).
        let mut steps: Vec<Step> = Vec::new();
        let mut step_buffers: Vec<Vec<usize>> = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            if !has_step(i) {
                if matches!(node.op(), Op::Concat) {
                    let (out, out_buf) = slot(i)?;
                    let mut channel = 0;
                    for v in node.inputs() {
                        let x = v.index();
                        let c = shapes[x].c;
                        if parent[x].is_none() {
                            let (input, in_buf) = slot(x)?;
                            let output =
                                Slot { offset: out.offset + channel, shape: shapes[x], pitch: out.pitch };
                            let name = format!("{}[{}]", node.name(), nodes[x].name());
                            steps.push(Step { name, kind: Kind::CopyChannels, input, output });
                            step_buffers.push(vec![in_buf, out_buf]);
                        }
                        channel += c;
                    }
                }
                continue;
            }
            let (output, out_buf) = slot(i)?;
            let (input, in_buf) = slot(reads[i][0])?;
            let mut buffers = vec![in_buf];
            let (name, kind) = if let Some((c, r)) = fused_add[i] {
                let &Op::Add { act } = node.op() else { return Err(internal(node.name(), "fused non-add")) };
                let (residual, res_buf) = slot(r)?;
                buffers.push(res_buf);
                let conv = conv_kernel(&nodes[c], input.shape, weights, options)?;
                (
                    format!("{}+{}", nodes[c].name(), node.name()),
                    Kind::Conv { conv: Box::new(conv), act, residual: Some(residual) },
                )
            } else {
                let kind = match node.op() {
                    Op::Add { act } => {
                        let (other, other_buf) = slot(reads[i][1])?;
                        buffers.push(other_buf);
                        Kind::Add { other, act: *act }
                    }
                    _ => step_kind(node, input.shape, output.shape, weights, options)?,
                };
                (node.name().to_string(), kind)
            };
            buffers.push(out_buf);
            steps.push(Step { name, kind, input, output });
            step_buffers.push(buffers);
        }

        let (input_slot, input_buf) = slot(0)?;
        let (output_slot, output_buf) = slot(output)?;
        let kept_slots: Vec<(Slot, usize)> = kept.iter().map(|&(_, v)| slot(v)).collect::<Result<_>>()?;
        let pinned: Vec<usize> =
            [input_buf, output_buf].into_iter().chain(kept_slots.iter().map(|&(_, b)| b)).collect();
        let band_len = if input.n == 1 {
            fuse_band_chains(&mut steps, &mut step_buffers, &mut sizes, &pinned)?
        } else {
            0
        };

        // Liveness: the input is written at time 0, step s runs at time s + 1, the output and
        // the kept values live to the end.
        let mut life: Vec<Option<Lifetime>> = vec![None; sizes.len()];
        let mut touch = |b: usize, t: usize| {
            let l = life[b].get_or_insert(Lifetime { len: sizes[b], first: t, last: t });
            l.first = l.first.min(t);
            l.last = l.last.max(t);
        };
        touch(input_buf, 0);
        for (s, buffers) in step_buffers.iter().enumerate() {
            for &b in buffers {
                touch(b, s + 1);
            }
        }
        touch(output_buf, steps.len() + 1);
        for &(_, b) in &kept_slots {
            touch(b, steps.len() + 1);
        }
        // Buffers of values nothing writes or reads (unused input-only chains) still get a place.
        let lifetimes: Vec<Lifetime> = life
            .iter()
            .zip(&sizes)
            .map(|(l, &len)| l.unwrap_or(Lifetime { len, first: 0, last: 0 }))
            .collect();
        let (offsets, arena_len) = assign_offsets(&lifetimes)
            .ok_or_else(|| NetError::Shape(format!("{}: the activation arena size overflows", net.name())))?;

        for (step, buffers) in steps.iter_mut().zip(&step_buffers) {
            let mut k = 0;
            step.for_each_slot_mut(|s| {
                s.offset += offsets[buffers[k]];
                k += 1;
            });
            let out = step.output;
            if step.reads().any(|r| r.offset < out.end() && out.offset < r.end()) {
                return Err(internal(&step.name, "a read overlaps the output"));
            }
        }
        let input = Slot { offset: input_slot.offset + offsets[input_buf], ..input_slot };
        let output = Slot { offset: output_slot.offset + offsets[output_buf], ..output_slot };
        let kept = kept
            .into_iter()
            .zip(kept_slots)
            .map(|((name, _), (s, b))| (name, Slot { offset: s.offset + offsets[b], ..s }))
            .collect();
        let mut scratch_len = band_len;
        for s in &steps {
            if let Kind::Conv { conv, .. } = &s.kind {
                scratch_len =
                    scratch_len.max(conv.workspace_len(s.input.shape).map_err(NetError::kernel(&s.name))?);
            }
        }
        let workspace = arena_len.saturating_add(scratch_len);
        options.check_arena(net.name(), "the activation arena and scratch", workspace)?;
        Ok(Plan {
            name: net.name().to_string(),
            isa: options.isa,
            steps,
            input,
            output,
            kept,
            arena_len,
            scratch_len,
            band_len,
        })
    }
}

/// Smallest depthwise input that a band chain keeps out of memory: 1 MiB, twice the L2 cache,
/// below which the unfused layers' tensors stay in cache anyway.
const BAND_MIN_BYTES: usize = 1 << 20;

/// A 1x1, stride-1, unpadded, dense convolution step (with or without a residual).
fn is_pointwise(step: &Step) -> bool {
    matches!(&step.kind, Kind::Conv { conv, .. } if {
        let p = conv.params();
        (p.kh, p.kw, p.stride_h, p.stride_w, p.groups, p.pad) == (1, 1, 1, 1, 1, Padding::default())
    })
}

fn has_residual(step: &Step) -> bool {
    matches!(step.kind, Kind::Conv { residual: Some(_), .. })
}

fn is_depthwise(step: &Step) -> bool {
    matches!(&step.kind, Kind::Conv { conv, .. } if conv.algorithm() == Algorithm::Depthwise)
}

/// Replaces each run of steps `[pointwise expansion,] depthwise, pointwise projection` whose
/// intermediate tensors nothing else touches and whose depthwise input is at least
/// [`BAND_MIN_BYTES`] by one band-chain step; the intermediate buffers get no arena space.
/// Returns the scratch floats per thread of the widest chain.
fn fuse_band_chains(
    steps: &mut Vec<Step>,
    step_buffers: &mut Vec<Vec<usize>>,
    sizes: &mut [usize],
    pinned: &[usize],
) -> Result<usize> {
    // Step `from`'s output is step `to`'s input and nobody else's.
    let private = |from: usize, to: usize, steps: &[Step], buffers: &[Vec<usize>]| {
        let b = buffers[from].last().copied();
        let users = |b: usize| buffers.iter().filter(|s| s.contains(&b)).count();
        steps[to].input == steps[from].output && b.is_some_and(|b| !pinned.contains(&b) && users(b) == 2)
    };
    let mut band_len = 0;
    let mut i = 0;
    while i + 1 < steps.len() {
        let expand = i + 2 < steps.len()
            && is_pointwise(&steps[i])
            && !has_residual(&steps[i])
            && private(i, i + 1, steps, step_buffers);
        let d = if expand { i + 1 } else { i };
        let large = steps[d].input.shape.elements().is_ok_and(|e| e * 4 >= BAND_MIN_BYTES);
        if !(large
            && is_depthwise(&steps[d])
            && !has_residual(&steps[d])
            && is_pointwise(&steps[d + 1])
            && private(d, d + 1, steps, step_buffers))
        {
            i += 1;
            continue;
        }
        let mid = steps[d].input.shape;
        let fused: Vec<Step> = steps.drain(i..=d + 1).collect();
        let buffers: Vec<Vec<usize>> = step_buffers.drain(i..=d + 1).collect();
        for b in &buffers[..buffers.len() - 1] {
            sizes[b[b.len() - 1]] = 0;
        }
        let name = fused.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("+");
        let (input, output) = (fused[0].input, fused[fused.len() - 1].output);
        let mut layers = fused.into_iter().map(|s| match s.kind {
            Kind::Conv { conv, act, residual } => Ok((Layer { conv: *conv, act }, residual)),
            _ => Err(internal(&s.name, "a band chain of a non-convolution")),
        });
        let mut next = || layers.next().ok_or_else(|| internal(&name, "a short band chain"))?;
        let expand = if expand { Some(next()?.0) } else { None };
        let depthwise = next()?.0;
        let (project, residual) = next()?;
        let chain =
            BandChain::new(expand, depthwise, project, residual, mid).map_err(NetError::kernel(&name))?;
        band_len = band_len.max(chain.scratch_len());
        let last = &buffers[buffers.len() - 1];
        steps.insert(i, Step { name, kind: Kind::Band(Box::new(chain)), input, output });
        step_buffers.insert(i, std::iter::once(buffers[0][0]).chain(last[1..].iter().copied()).collect());
        i += 1;
    }
    Ok(band_len)
}

fn internal(layer: &str, what: &str) -> NetError {
    NetError::Graph(format!("layer {layer}: planner invariant broken: {what}"))
}

/// Where planning takes parameter tensors from: borrowed weights, or owned ones handed over
/// one tensor at a time.
trait Source<'a> {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> Result<Cow<'a, [f32]>>;
    /// Every parameter of `net` present with its shape (see [`Weights::check`]).
    fn check_net(&self, net: &Net) -> Result<()>;
}

impl<'a> Source<'a> for &'a Weights {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> Result<Cow<'a, [f32]>> {
        let weights: &'a Weights = self;
        weights.expect(name, shape).map(Cow::Borrowed)
    }

    fn check_net(&self, net: &Net) -> Result<()> {
        self.check(net, false).map(drop)
    }
}

impl Source<'static> for Weights {
    fn tensor(&mut self, name: &str, shape: &[usize]) -> Result<Cow<'static, [f32]>> {
        self.expect(name, shape)?;
        let t = self.take(name).ok_or_else(|| NetError::Weights(format!("missing tensor {name:?}")))?;
        Ok(Cow::Owned(t.data))
    }

    fn check_net(&self, net: &Net) -> Result<()> {
        self.check(net, false).map(drop)
    }
}

/// Batch-norm statistics `{name}.weight/.bias/.running_mean/.running_var` of `c` channels.
fn batch_norm<'a>(weights: &mut impl Source<'a>, name: &str, c: usize, eps: f32) -> Result<BatchNorm> {
    let gamma = weights.tensor(&format!("{name}.weight"), &[c])?;
    let beta = weights.tensor(&format!("{name}.bias"), &[c])?;
    let mean = weights.tensor(&format!("{name}.running_mean"), &[c])?;
    let var = weights.tensor(&format!("{name}.running_var"), &[c])?;
    BatchNorm::from_stats(&gamma, &beta, &mean, &var, eps).map_err(NetError::kernel(name))
}

/// The packed convolution of a conv node, with its batch norm folded into weights and bias.
fn conv_kernel<'a>(
    node: &Node,
    input: Shape,
    weights: &mut impl Source<'a>,
    options: &PlanOptions,
) -> Result<Conv2d> {
    let Op::Conv { params: p, bias, bn, .. } = node.op() else {
        return Err(internal(node.name(), "not a convolution"));
    };
    let name = node.name();
    let shape = [p.c_out, p.c_in_per_group(), p.kh, p.kw];
    let mut w = weights.tensor(&format!("{name}.weight"), &shape)?.into_owned();
    let b = if *bias { Some(weights.tensor(&format!("{name}.bias"), &[p.c_out])?) } else { None };
    let folded_bias = match bn {
        Some(bn) => {
            let norm = batch_norm(weights, &bn.name, p.c_out, bn.eps)?;
            Some(norm.fold_into_conv(&mut w, b.as_deref()).map_err(NetError::kernel(&bn.name))?)
        }
        None => b.map(Cow::into_owned),
    };
    let k = NetError::kernel(name);
    let algorithm = options.algorithm(select(options.isa, p, input).map_err(k)?);
    Conv2d::with(options.isa, algorithm, p, &w, folded_bias.as_deref()).map_err(NetError::kernel(name))
}

fn pool_params(s: &PoolSpec) -> Pool2dParams {
    Pool2dParams {
        kh: s.kh,
        kw: s.kw,
        stride_h: s.stride_h,
        stride_w: s.stride_w,
        pad: s.pad,
        ceil_mode: s.ceil_mode,
        count_include_pad: s.count_include_pad,
    }
}

/// The step of a node that is neither fused, an add, nor a concat.
fn step_kind<'a>(
    node: &Node,
    input: Shape,
    output: Shape,
    weights: &mut impl Source<'a>,
    options: &PlanOptions,
) -> Result<Kind> {
    let name = node.name();
    Ok(match node.op() {
        Op::Conv { act, .. } => Kind::Conv {
            conv: Box::new(conv_kernel(node, input, weights, options)?),
            act: *act,
            residual: None,
        },
        Op::BatchNorm { eps, act } => {
            let bn = batch_norm(weights, name, input.c, *eps)?;
            Kind::BatchNorm { bn, act: *act }
        }
        Op::Act(a) => Kind::Act(*a),
        Op::MaxPool(s) | Op::AvgPool(s) => {
            let p = pool_params(s);
            let hw = p.output_hw(input.h, input.w).map_err(NetError::kernel(name))?;
            if hw != (output.h, output.w) {
                return Err(NetError::Shape(format!(
                    "layer {name}: pooling gives {hw:?}, shape inference {:?}",
                    (output.h, output.w)
                )));
            }
            if matches!(node.op(), Op::MaxPool(_)) {
                Kind::MaxPool(p)
            } else {
                Kind::AvgPool(p)
            }
        }
        Op::AdaptiveAvgPool { .. } => Kind::AdaptiveAvgPool,
        Op::GlobalAvgPool => Kind::GlobalAvgPool,
        Op::Lrn(s) => Kind::Lrn(LrnParams { size: s.size, alpha: s.alpha, beta: s.beta, k: s.k }),
        Op::Flatten => Kind::Flatten,
        Op::Linear { in_f, out_f, bias, act } => {
            let w = weights.tensor(&format!("{name}.weight"), &[*out_f, *in_f])?;
            let b = if *bias { Some(weights.tensor(&format!("{name}.bias"), &[*out_f])?) } else { None };
            let fc = FullyConnected::new(options.isa, *in_f, *out_f, &w, b.as_deref())
                .map_err(NetError::kernel(name))?;
            Kind::Linear { fc, act: *act }
        }
        Op::Softmax => Kind::Softmax,
        Op::Input | Op::Add { .. } | Op::Concat => return Err(internal(name, "no standalone step")),
    })
}
