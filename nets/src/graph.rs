//! The description of a network: a DAG of named layers built with [`NetBuilder`], whose names
//! follow the torchvision parameter names so that `layer1.0.conv1` loads `layer1.0.conv1.weight`.
//!
//! The builder knows every value's channel count (so convolutions are fully specified as they
//! are added); spatial sizes are inferred for a given input by [`Net::infer_shapes`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use lineage_kernels::{Activation, Conv2dParams, Padding, Shape};

use crate::error::{NetError, Result};

/// Default batch-norm epsilon of PyTorch.
pub const BN_EPS: f32 = 1e-5;

/// A value (the output of one node) of a network under construction. It carries the identity
/// of its builder, so a value of another builder is an error even where its index exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value {
    builder: u64,
    index: usize,
}

impl Value {
    /// The index of the node producing this value.
    pub fn index(self) -> usize {
        self.index
    }
}

/// The identity of the next [`NetBuilder`]; every builder takes its own.
static NEXT_BUILDER: AtomicU64 = AtomicU64::new(0);

/// A pooling window, as PyTorch's `MaxPool2d` / `AvgPool2d` define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad: Padding,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

impl PoolSpec {
    /// A square `k x k` window with stride and symmetric padding (PyTorch's defaults otherwise).
    pub const fn square(k: usize, stride: usize, pad: usize) -> Self {
        PoolSpec {
            kh: k,
            kw: k,
            stride_h: stride,
            stride_w: stride,
            pad: Padding::uniform(pad),
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

/// Local response normalization, as PyTorch's `LocalResponseNorm`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnSpec {
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub k: f32,
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// The network input (NHWC inside the engine).
    Input,
    /// A convolution (weights `{name}.weight`, optional `{name}.bias`), optionally followed by
    /// the batch norm named `bn` (folded at plan time) and an activation.
    Conv {
        params: Conv2dParams,
        bias: bool,
        bn: Option<BnSpec>,
        act: Activation,
    },
    /// A standalone batch norm (`{name}.weight/.bias/.running_mean/.running_var`) and activation.
    BatchNorm {
        eps: f32,
        act: Activation,
    },
    /// A standalone activation.
    Act(Activation),
    MaxPool(PoolSpec),
    AvgPool(PoolSpec),
    /// Adaptive average pooling to a fixed `h x w` (as torchvision's AlexNet and VGG use it).
    AdaptiveAvgPool {
        h: usize,
        w: usize,
    },
    GlobalAvgPool,
    Lrn(LrnSpec),
    /// Elementwise sum of two values, then an activation (ResNet's `relu(out + identity)`).
    Add {
        act: Activation,
    },
    /// Channel concatenation of the inputs, in order.
    Concat,
    /// PyTorch's `flatten(x, 1)` of the NCHW tensor.
    Flatten,
    /// A fully connected layer (weights `{name}.weight` `[out][in]`, optional `{name}.bias`).
    Linear {
        in_f: usize,
        out_f: usize,
        bias: bool,
        act: Activation,
    },
    Softmax,
}

/// The batch norm that follows a convolution.
#[derive(Clone, Debug, PartialEq)]
pub struct BnSpec {
    pub name: String,
    pub eps: f32,
}

impl Op {
    /// A short name of the layer kind for tables.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Conv { params, .. } if params.groups > 1 && params.groups == params.c_in => "dwconv",
            Op::Conv { params, .. } if params.groups > 1 => "gconv",
            Op::Conv { .. } => "conv",
            Op::BatchNorm { .. } => "batchnorm",
            Op::Act(_) => "act",
            Op::MaxPool(_) => "maxpool",
            Op::AvgPool(_) => "avgpool",
            Op::AdaptiveAvgPool { .. } => "adaptivepool",
            Op::GlobalAvgPool => "globalpool",
            Op::Lrn(_) => "lrn",
            Op::Add { .. } => "add",
            Op::Concat => "concat",
            Op::Flatten => "flatten",
            Op::Linear { .. } => "linear",
            Op::Softmax => "softmax",
        }
    }
}

/// One layer: its name (the torchvision module path), what it computes and its inputs. Read
/// only: layers are made by [`NetBuilder`], which checks them.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    name: String,
    op: Op,
    inputs: Vec<Value>,
    channels: usize,
}

impl Node {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn op(&self) -> &Op {
        &self.op
    }

    /// The values the layer reads, in order.
    pub fn inputs(&self) -> &[Value] {
        &self.inputs
    }

    /// Channels of the output.
    pub fn channels(&self) -> usize {
        self.channels
    }
}

/// A parameter tensor the network expects, with its OIHW / `[out][in]` / `[c]` shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    /// Trainable parameters count towards the parameter total; running statistics do not.
    pub trainable: bool,
    /// Fan-in for He initialization (1 for biases and batch-norm tensors).
    pub fan_in: usize,
    pub role: ParamRole,
}

/// What a parameter tensor is, which decides its random initialization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamRole {
    Weight,
    Bias,
    BnGamma,
    BnBeta,
    BnMean,
    BnVar,
}

/// A complete network description, made only by [`NetBuilder::finish`] (which validates it)
/// and read through its methods, so its invariants hold for its whole life.
#[derive(Clone, Debug)]
pub struct Net {
    /// The builder's identity, which the network's values carry.
    builder: u64,
    name: String,
    nodes: Vec<Node>,
    output: Value,
}

/// Builds a [`Net`] layer by layer; every method checks its arguments and names the layer in
/// its error.
#[derive(Debug)]
pub struct NetBuilder {
    id: u64,
    name: String,
    nodes: Vec<Node>,
    names: HashSet<String>,
    /// Epsilon of the batch norms added from now on ([`NetBuilder::set_bn_eps`]).
    bn_eps: f32,
}

/// An error unless `eps` is a batch-norm epsilon: finite and not negative.
fn check_eps(what: &str, eps: f32) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(NetError::Graph(format!("{what}: batch-norm epsilon {eps} is not finite and >= 0")))
    }
}

impl NetBuilder {
    /// A network called `name` whose input has `channels` channels; returns the builder and the
    /// input value.
    pub fn new(name: &str, channels: usize) -> Result<(Self, Value)> {
        if channels == 0 {
            return Err(NetError::Graph(format!("{name}: input with 0 channels")));
        }
        let id = NEXT_BUILDER.fetch_add(1, Ordering::Relaxed);
        let mut b = NetBuilder {
            id,
            name: name.to_string(),
            nodes: Vec::new(),
            names: HashSet::new(),
            bn_eps: BN_EPS,
        };
        let v = b.push("input", Op::Input, vec![], channels)?;
        Ok((b, v))
    }

    /// Channels of value `v`, or an error for a value of another builder.
    pub fn channels(&self, v: Value) -> Result<usize> {
        if v.builder != self.id {
            return Err(NetError::Graph(format!(
                "{}: value {} comes from another network builder",
                self.name, v.index
            )));
        }
        self.nodes
            .get(v.index)
            .map(|n| n.channels)
            .ok_or_else(|| NetError::Graph(format!("{}: unknown value {}", self.name, v.index)))
    }

    /// Sets the epsilon of the batch norms added from now on, by [`NetBuilder::conv_bn`] and
    /// [`NetBuilder::batch_norm`] (PyTorch's default is [`BN_EPS`]; torchvision's BasicConv2d
    /// uses 1e-3).
    pub fn set_bn_eps(&mut self, eps: f32) -> Result<()> {
        check_eps(&self.name, eps)?;
        self.bn_eps = eps;
        Ok(())
    }

    fn push(&mut self, name: &str, op: Op, inputs: Vec<Value>, channels: usize) -> Result<Value> {
        if name.is_empty() {
            return Err(NetError::Graph(format!("{}: a layer has an empty name", self.name)));
        }
        // Inputs first, so that a refused layer leaves its name free.
        for v in &inputs {
            self.channels(*v)?;
        }
        if !self.names.insert(name.to_string()) {
            return Err(NetError::Graph(format!("{}: duplicate layer name {name:?}", self.name)));
        }
        self.nodes.push(Node { name: name.to_string(), op, inputs, channels });
        Ok(Value { builder: self.id, index: self.nodes.len() - 1 })
    }

    fn conv_params(&self, name: &str, x: Value, spec: &ConvSpec) -> Result<Conv2dParams> {
        let p = Conv2dParams {
            c_in: self.channels(x)?,
            c_out: spec.c_out,
            kh: spec.kh,
            kw: spec.kw,
            stride_h: spec.stride_h,
            stride_w: spec.stride_w,
            pad: spec.pad,
            dilation_h: spec.dilation,
            dilation_w: spec.dilation,
            groups: spec.groups,
        };
        p.validate().map_err(NetError::kernel(name))?;
        // Every count derived from the weights (parameters, fan-in, MACs per pixel) is then a
        // product that fits.
        p.weight_len().map_err(NetError::kernel(name))?;
        Ok(p)
    }

    /// A convolution with no batch norm (its bias, if any, loads from `{name}.bias`).
    pub fn conv(&mut self, name: &str, x: Value, spec: ConvSpec, act: Activation) -> Result<Value> {
        let params = self.conv_params(name, x, &spec)?;
        self.push(name, Op::Conv { params, bias: spec.bias, bn: None, act }, vec![x], spec.c_out)
    }

    /// `act(bn(conv(x)))`, the torchvision `conv` + `bn` (+ ReLU) pattern, as one layer; the
    /// conv loads `{conv_name}.weight`, the batch norm `{bn_name}.*`.
    pub fn conv_bn(
        &mut self,
        conv_name: &str,
        bn_name: &str,
        x: Value,
        spec: ConvSpec,
        act: Activation,
    ) -> Result<Value> {
        let params = self.conv_params(conv_name, x, &spec)?;
        if bn_name.is_empty() || !self.names.insert(bn_name.to_string()) {
            return Err(NetError::Graph(format!(
                "{}: batch norm name {bn_name:?} is empty or taken",
                self.name
            )));
        }
        let bn = Some(BnSpec { name: bn_name.to_string(), eps: self.bn_eps });
        self.push(conv_name, Op::Conv { params, bias: spec.bias, bn, act }, vec![x], spec.c_out)
    }

    /// A standalone batch norm followed by `act` (DenseNet's pre-activation), with the
    /// builder's epsilon ([`NetBuilder::set_bn_eps`]).
    pub fn batch_norm(&mut self, name: &str, x: Value, act: Activation) -> Result<Value> {
        self.batch_norm_eps(name, x, self.bn_eps, act)
    }

    /// [`NetBuilder::batch_norm`] with its own epsilon (0 makes it an exact affine map).
    pub fn batch_norm_eps(&mut self, name: &str, x: Value, eps: f32, act: Activation) -> Result<Value> {
        check_eps(name, eps)?;
        let c = self.channels(x)?;
        self.push(name, Op::BatchNorm { eps, act }, vec![x], c)
    }

    pub fn activation(&mut self, name: &str, x: Value, act: Activation) -> Result<Value> {
        let c = self.channels(x)?;
        self.push(name, Op::Act(act), vec![x], c)
    }

    pub fn max_pool(&mut self, name: &str, x: Value, spec: PoolSpec) -> Result<Value> {
        check_pool(name, &spec)?;
        let c = self.channels(x)?;
        self.push(name, Op::MaxPool(spec), vec![x], c)
    }

    pub fn avg_pool(&mut self, name: &str, x: Value, spec: PoolSpec) -> Result<Value> {
        check_pool(name, &spec)?;
        let c = self.channels(x)?;
        self.push(name, Op::AvgPool(spec), vec![x], c)
    }

    pub fn adaptive_avg_pool(&mut self, name: &str, x: Value, h: usize, w: usize) -> Result<Value> {
        if h == 0 || w == 0 {
            return Err(NetError::Graph(format!("{name}: adaptive pool to {h}x{w}")));
        }
        let c = self.channels(x)?;
        self.push(name, Op::AdaptiveAvgPool { h, w }, vec![x], c)
    }

    pub fn global_avg_pool(&mut self, name: &str, x: Value) -> Result<Value> {
        let c = self.channels(x)?;
        self.push(name, Op::GlobalAvgPool, vec![x], c)
    }

    pub fn lrn(&mut self, name: &str, x: Value, spec: LrnSpec) -> Result<Value> {
        if spec.size == 0 {
            return Err(NetError::Graph(format!("{name}: LRN size 0")));
        }
        let c = self.channels(x)?;
        self.push(name, Op::Lrn(spec), vec![x], c)
    }

    /// `act(a + b)`; both values must have the same channels (spatial sizes are checked when
    /// shapes are inferred).
    pub fn add(&mut self, name: &str, a: Value, b: Value, act: Activation) -> Result<Value> {
        let (ca, cb) = (self.channels(a)?, self.channels(b)?);
        if ca != cb {
            return Err(NetError::Graph(format!("{name}: adding {ca} channels to {cb} channels")));
        }
        self.push(name, Op::Add { act }, vec![a, b], ca)
    }

    /// Channel concatenation of `xs` in order.
    pub fn concat(&mut self, name: &str, xs: &[Value]) -> Result<Value> {
        if xs.is_empty() {
            return Err(NetError::Graph(format!("{name}: concat of nothing")));
        }
        let mut c = 0usize;
        for x in xs {
            c = c
                .checked_add(self.channels(*x)?)
                .ok_or_else(|| NetError::Graph(format!("{name}: channel count overflows")))?;
        }
        self.push(name, Op::Concat, xs.to_vec(), c)
    }

    pub fn flatten(&mut self, name: &str, x: Value) -> Result<Value> {
        let c = self.channels(x)?;
        self.push(name, Op::Flatten, vec![x], c)
    }

    /// A fully connected layer from `in_f` features (checked against the input at shape
    /// inference) to `out_f`.
    pub fn linear(&mut self, name: &str, x: Value, in_f: usize, out_f: usize, bias: bool) -> Result<Value> {
        if in_f == 0 || out_f == 0 || in_f.checked_mul(out_f).is_none() {
            return Err(NetError::Graph(format!("{name}: linear {in_f} -> {out_f}")));
        }
        self.channels(x)?;
        self.push(name, Op::Linear { in_f, out_f, bias, act: Activation::None }, vec![x], out_f)
    }

    /// The classifier of a network: a fully connected layer from `in_f` features to `classes`
    /// (with bias), or nothing when `classes` is 0, so that the network ends in its pooled
    /// features (timm's `num_classes=0`).
    pub fn classifier(&mut self, name: &str, x: Value, in_f: usize, classes: usize) -> Result<Value> {
        if classes == 0 {
            return Ok(x);
        }
        self.linear(name, x, in_f, classes, true)
    }

    pub fn softmax(&mut self, name: &str, x: Value) -> Result<Value> {
        let c = self.channels(x)?;
        self.push(name, Op::Softmax, vec![x], c)
    }

    /// Finishes the network with `output` (a value of this builder) as its result.
    pub fn finish(self, output: Value) -> Result<Net> {
        self.channels(output).map_err(|e| NetError::Graph(format!("the output: {e}")))?;
        let net = Net { builder: self.id, name: self.name, nodes: self.nodes, output };
        net.validate()?;
        Ok(net)
    }
}

fn check_pool(name: &str, s: &PoolSpec) -> Result<()> {
    if s.kh == 0 || s.kw == 0 || s.stride_h == 0 || s.stride_w == 0 {
        return Err(NetError::Graph(format!("{name}: pooling window or stride of 0 ({s:?})")));
    }
    if s.pad.top.max(s.pad.bottom) > s.kh / 2 || s.pad.left.max(s.pad.right) > s.kw / 2 {
        return Err(NetError::Graph(format!(
            "{name}: padding {:?} exceeds half the {}x{} window (PyTorch's rule)",
            s.pad, s.kh, s.kw
        )));
    }
    Ok(())
}

/// The arguments of a convolution layer, with PyTorch's defaults from [`ConvSpec::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad: Padding,
    pub dilation: usize,
    pub groups: usize,
    pub bias: bool,
}

impl ConvSpec {
    /// `k x k`, stride, symmetric padding, no bias (the torchvision conv-before-BN form).
    pub const fn new(c_out: usize, k: usize, stride: usize, pad: usize) -> Self {
        ConvSpec {
            c_out,
            kh: k,
            kw: k,
            stride_h: stride,
            stride_w: stride,
            pad: Padding::uniform(pad),
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }

    pub const fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    pub const fn with_bias(mut self) -> Self {
        self.bias = true;
        self
    }
}

/// Largest side [`Net::infer_shapes`] tries when it looks for the smallest input of a network
/// (every architecture here takes far less: 32 for ResNet, 75 for Inception v3).
const MIN_INPUT_SEARCH: usize = 512;

/// PyTorch's pooled size along one axis (ceil mode drops a last window starting in the padding).
pub(crate) fn pool_out(
    size: usize,
    pad0: usize,
    pad1: usize,
    k: usize,
    s: usize,
    ceil: bool,
) -> Option<usize> {
    let padded = size.checked_add(pad0)?.checked_add(pad1)?;
    if padded < k {
        return None;
    }
    let span = padded - k;
    let mut out = if ceil { span.div_ceil(s) } else { span / s } + 1;
    if ceil && (out - 1) * s >= size + pad0 {
        out -= 1;
    }
    Some(out)
}

impl Net {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layers in order (each one's inputs are earlier layers; the first is the input).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The value the network computes.
    pub fn output(&self) -> Value {
        self.output
    }

    /// The node producing `v`, or an error for a value of another network.
    pub fn node(&self, v: Value) -> Result<&Node> {
        let node = if v.builder == self.builder { self.nodes.get(v.index) } else { None };
        node.ok_or_else(|| {
            NetError::Graph(format!(
                "{}: value {} is not one of its {} layers (it comes from another builder)",
                self.name,
                v.index,
                self.nodes.len()
            ))
        })
    }

    /// Checks the invariants the rest of the crate relies on: one input node first, every
    /// input an earlier layer of this network, each layer's input count and channels as its
    /// kind needs, convolution parameters valid, pooling windows and strides non-zero,
    /// batch-norm epsilons finite and >= 0, the output a layer. [`NetBuilder::finish`] runs it
    /// on every network, as the last guard behind the builder's own checks.
    fn validate(&self) -> Result<()> {
        let bad = |i: usize, what: String| {
            let name = self.nodes.get(i).map_or("?", |n| n.name.as_str());
            Err(NetError::Graph(format!("{}: layer {i} ({name}): {what}", self.name)))
        };
        if self.output.builder != self.builder || self.output.index >= self.nodes.len() {
            return bad(
                self.output.index,
                format!("the output is not one of the {} layers", self.nodes.len()),
            );
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let Some(v) = node.inputs.iter().find(|v| v.index >= i || v.builder != self.builder) {
                return bad(i, format!("input {} is not an earlier layer of this network", v.index));
            }
            let arity = node.inputs.len();
            let wanted = match &node.op {
                Op::Input => 0,
                Op::Add { .. } => 2,
                Op::Concat => arity.max(1),
                _ => 1,
            };
            if matches!(node.op, Op::Input) != (i == 0) || arity != wanted {
                return bad(
                    i,
                    format!(
                        "a {} layer with {arity} inputs (the first layer is the one input)",
                        node.op.kind()
                    ),
                );
            }
            let c: Vec<usize> = node.inputs.iter().map(|v| self.nodes[v.index].channels).collect();
            let channels = match &node.op {
                Op::Input => node.channels.max(1),
                Op::Conv { bn: Some(BnSpec { eps, .. }), .. } | Op::BatchNorm { eps, .. }
                    if check_eps(&node.name, *eps).is_err() =>
                {
                    return bad(i, format!("batch-norm epsilon {eps}"))
                }
                Op::Conv { params, .. } => {
                    params.validate().map_err(NetError::kernel(&node.name))?;
                    params.weight_len().map_err(NetError::kernel(&node.name))?;
                    if c[0] != params.c_in {
                        return bad(
                            i,
                            format!("a conv of {} input channels on {} channels", params.c_in, c[0]),
                        );
                    }
                    params.c_out
                }
                Op::MaxPool(p) | Op::AvgPool(p) => {
                    if let Err(e) = check_pool(&node.name, p) {
                        return bad(i, e.to_string());
                    }
                    c[0]
                }
                Op::AdaptiveAvgPool { h, w } if *h == 0 || *w == 0 => {
                    return bad(i, format!("pool to {h}x{w}"))
                }
                Op::Lrn(l) if l.size == 0 => return bad(i, "LRN size 0".into()),
                Op::Add { .. } if c[0] != c[1] => {
                    return bad(i, format!("adding {} to {} channels", c[0], c[1]))
                }
                Op::Concat => c.iter().try_fold(0usize, |a, &b| a.checked_add(b)).unwrap_or(0),
                Op::Linear { in_f, out_f, .. } => {
                    if *in_f == 0 || *out_f == 0 || in_f.checked_mul(*out_f).is_none() {
                        return bad(i, format!("linear {in_f} -> {out_f}"));
                    }
                    *out_f
                }
                _ => c[0],
            };
            if node.channels != channels || channels == 0 {
                return bad(i, format!("says {} output channels, its inputs make {channels}", node.channels));
            }
        }
        Ok(())
    }

    /// Every parameter tensor the network loads, in layer order.
    pub fn parameters(&self) -> Vec<ParamSpec> {
        let mut out = Vec::new();
        let spec = |name: String, shape: Vec<usize>, trainable, fan_in, role| ParamSpec {
            name,
            shape,
            trainable,
            fan_in,
            role,
        };
        let bn = |out: &mut Vec<ParamSpec>, name: &str, c: usize| {
            out.push(spec(format!("{name}.weight"), vec![c], true, 1, ParamRole::BnGamma));
            out.push(spec(format!("{name}.bias"), vec![c], true, 1, ParamRole::BnBeta));
            out.push(spec(format!("{name}.running_mean"), vec![c], false, 1, ParamRole::BnMean));
            out.push(spec(format!("{name}.running_var"), vec![c], false, 1, ParamRole::BnVar));
        };
        for node in &self.nodes {
            match &node.op {
                Op::Conv { params: p, bias, bn: norm, .. } => {
                    let fan_in = p.c_in_per_group() * p.kh * p.kw;
                    out.push(spec(
                        format!("{}.weight", node.name),
                        vec![p.c_out, p.c_in_per_group(), p.kh, p.kw],
                        true,
                        fan_in,
                        ParamRole::Weight,
                    ));
                    if *bias {
                        out.push(spec(
                            format!("{}.bias", node.name),
                            vec![p.c_out],
                            true,
                            1,
                            ParamRole::Bias,
                        ));
                    }
                    if let Some(n) = norm {
                        bn(&mut out, &n.name, p.c_out);
                    }
                }
                Op::BatchNorm { .. } => bn(&mut out, &node.name, node.channels),
                Op::Linear { in_f, out_f, bias, .. } => {
                    out.push(spec(
                        format!("{}.weight", node.name),
                        vec![*out_f, *in_f],
                        true,
                        *in_f,
                        ParamRole::Weight,
                    ));
                    if *bias {
                        out.push(spec(format!("{}.bias", node.name), vec![*out_f], true, 1, ParamRole::Bias));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Number of trainable parameters (what `sum(p.numel() for p in model.parameters())` counts).
    pub fn parameter_count(&self) -> usize {
        // Each tensor's count fits (the builder checks it); their sum saturates rather than wraps.
        self.parameters()
            .iter()
            .filter(|p| p.trainable)
            .map(|p| p.shape.iter().product::<usize>())
            .fold(0, usize::saturating_add)
    }

    /// Output shape (NHWC) of every node for an input of `input`, or an error naming the first
    /// layer whose input does not fit (and, for an input too small, the smallest the network
    /// takes).
    pub fn infer_shapes(&self, input: Shape) -> Result<Vec<Shape>> {
        self.shapes_for(input).map_err(|e| match (e, self.min_square_input(input)) {
            (NetError::Shape(m), Some(side)) if input.h < side || input.w < side => {
                NetError::Shape(format!("{m}; the smallest input {} takes is {side}x{side}", self.name))
            }
            (e, _) => e,
        })
    }

    /// The smallest `side` for which a `side x side` input of `like`'s channels fits, searched
    /// up to [`MIN_INPUT_SEARCH`].
    fn min_square_input(&self, like: Shape) -> Option<usize> {
        (1..=MIN_INPUT_SEARCH).find(|&side| self.shapes_for(Shape::new(1, side, side, like.c)).is_ok())
    }

    fn shapes_for(&self, input: Shape) -> Result<Vec<Shape>> {
        input.check_nonzero("network input").map_err(NetError::kernel("input"))?;
        input.elements().map_err(NetError::kernel("input"))?;
        let mut shapes: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let ins: Vec<Shape> = node.inputs.iter().map(|v| shapes[v.index]).collect();
            let s = self.node_shape(node, input, &ins)?;
            s.elements().map_err(NetError::kernel(&node.name))?;
            shapes.push(s);
        }
        Ok(shapes)
    }

    fn node_shape(&self, node: &Node, input: Shape, ins: &[Shape]) -> Result<Shape> {
        let name = &node.name;
        let x = ins.first().copied().unwrap_or(input);
        let shape_err = |msg: String| NetError::Shape(format!("layer {name} ({}): {msg}", node.op.kind()));
        Ok(match &node.op {
            Op::Input => {
                if input.c != node.channels {
                    return Err(shape_err(format!(
                        "input has {} channels, the network expects {}",
                        input.c, node.channels
                    )));
                }
                input
            }
            Op::Conv { params, .. } => {
                params.output_shape(x).map_err(|e| shape_err(format!("input {x:?}: {e}")))?
            }
            Op::BatchNorm { .. } | Op::Act(_) | Op::Lrn(_) | Op::Softmax => x,
            Op::MaxPool(s) | Op::AvgPool(s) => {
                let h = pool_out(x.h, s.pad.top, s.pad.bottom, s.kh, s.stride_h, s.ceil_mode);
                let w = pool_out(x.w, s.pad.left, s.pad.right, s.kw, s.stride_w, s.ceil_mode);
                match (h, w) {
                    (Some(h), Some(w)) if h > 0 && w > 0 => Shape { h, w, ..x },
                    _ => {
                        return Err(shape_err(format!(
                            "{}x{} window does not fit the padded input {x:?}",
                            s.kh, s.kw
                        )))
                    }
                }
            }
            Op::AdaptiveAvgPool { h, w } => Shape { h: *h, w: *w, ..x },
            Op::GlobalAvgPool => Shape { h: 1, w: 1, ..x },
            Op::Add { .. } => {
                if ins[0] != ins[1] {
                    return Err(shape_err(format!("adding {:?} and {:?}", ins[0], ins[1])));
                }
                x
            }
            Op::Concat => {
                let mut c = 0;
                for s in ins {
                    if (s.n, s.h, s.w) != (x.n, x.h, x.w) {
                        return Err(shape_err(format!("concatenating {x:?} and {s:?}")));
                    }
                    c += s.c;
                }
                Shape { c, ..x }
            }
            Op::Flatten => Shape::new(x.n, 1, 1, x.h * x.w * x.c),
            Op::Linear { in_f, out_f, .. } => {
                if (x.h, x.w, x.c) != (1, 1, *in_f) {
                    return Err(shape_err(format!("expects {in_f} features (n,1,1,{in_f}), got {x:?}")));
                }
                Shape::new(x.n, 1, 1, *out_f)
            }
        })
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
