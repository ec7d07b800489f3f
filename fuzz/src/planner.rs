//! `planner`: arbitrary small networks (convolutions of every shape and grouping, batch norm,
//! pooling, LRN, residual adds, concat branches, flatten, linear, softmax) built with the nets
//! builder and planned for an arbitrary input shape. A valid network plans and runs, giving
//! finite logits for finite input; an invalid one is an error that names the offending layer.

use lineage_kernels::{Activation, Padding, Shape};
use lineage_nets::{
    ConvSpec, Input, LrnSpec, NetBuilder, Plan, PoolSpec, Threads, Value, Weights, Workspace,
};

use crate::bytes::Bytes;
use crate::tiny::pool;

/// Layers per network.
const MAX_LAYERS: usize = 7;

/// Adds one layer named `name` on values picked from `values`; `Err` carries the builder's
/// message.
fn add_layer(
    b: &mut Bytes,
    net: &mut NetBuilder,
    name: &str,
    values: &[Value],
    wild: bool,
) -> lineage_nets::Result<Value> {
    let lo = usize::from(!wild);
    let pick = |b: &mut Bytes| values[b.byte() as usize % values.len()];
    let x = pick(b);
    let act = [Activation::None, Activation::Relu, Activation::Relu6][b.range(0, 2)];
    match b.range(0, 11) {
        0 | 1 => {
            let c_in = net.channels(x)?;
            let depthwise = b.flag();
            let groups = if depthwise {
                c_in
            } else if wild {
                b.range(0, 4)
            } else {
                1 + b.byte() as usize % c_in.min(4)
            };
            let spec = ConvSpec {
                c_out: if depthwise { c_in * b.range(1, 2) } else { b.range(lo, 4) * groups.max(1) },
                kh: b.range(lo, 5),
                kw: b.range(lo, 5),
                stride_h: b.range(lo, 2),
                stride_w: b.range(lo, 2),
                pad: Padding {
                    top: b.range(0, 2),
                    left: b.range(0, 2),
                    bottom: b.range(0, 2),
                    right: b.range(0, 2),
                },
                dilation: b.range(lo, 2),
                groups,
                bias: b.flag(),
            };
            if b.flag() {
                net.conv_bn(name, &format!("{name}_bn"), x, spec, act)
            } else {
                net.conv(name, x, spec, act)
            }
        }
        2 | 3 => {
            let spec = PoolSpec {
                kh: b.range(lo, 4),
                kw: b.range(lo, 4),
                stride_h: b.range(lo, 3),
                stride_w: b.range(lo, 3),
                pad: Padding {
                    top: b.range(0, 2),
                    left: b.range(0, 2),
                    bottom: b.range(0, 2),
                    right: b.range(0, 2),
                },
                ceil_mode: b.flag(),
                count_include_pad: b.flag(),
            };
            if b.flag() {
                net.max_pool(name, x, spec)
            } else {
                net.avg_pool(name, x, spec)
            }
        }
        4 => net.adaptive_avg_pool(name, x, b.range(lo, 3), b.range(lo, 3)),
        5 => net.global_avg_pool(name, x),
        6 => net.lrn(name, x, LrnSpec { size: b.range(lo, 5), alpha: 1e-3, beta: 0.75, k: 2.0 }),
        7 => {
            let y = pick(b);
            net.add(name, x, y, act)
        }
        8 => {
            let y = pick(b);
            net.concat(name, &[x, y])
        }
        9 => net.batch_norm(name, x, act),
        10 => {
            let flat = net.flatten(&format!("{name}_flat"), x)?;
            // The features are checked against the flattened input when shapes are inferred.
            net.linear(name, flat, b.range(lo, 64), b.range(lo, 8), b.flag())
        }
        _ => net.softmax(name, x),
    }
}

/// The fuzz target body.
pub fn planner(data: &[u8]) {
    let mut b = Bytes::new(data);
    let wild = b.byte() < 32;
    let lo = usize::from(!wild);
    let shape = Shape::new(b.range(lo, 2), b.range(lo, 12), b.range(lo, 12), b.range(lo, 4));
    let Ok((mut net, input)) = NetBuilder::new("fuzz", shape.c) else {
        return assert_eq!(shape.c, 0, "a network with {} input channels was refused", shape.c);
    };
    let mut values = vec![input];
    let mut names = vec!["input".to_string()];
    for i in 0..b.range(1, MAX_LAYERS) {
        let name = format!("layer{i}_");
        match add_layer(&mut b, &mut net, &name, &values, wild) {
            Ok(v) => {
                values.push(v);
                names.push(name);
            }
            Err(e) => {
                return assert!(
                    e.to_string().contains(&name),
                    "the builder's error does not name {name}: {e}"
                )
            }
        }
    }
    let net = net.finish(*values.last().expect("the input at least")).expect("the output is a built value");
    let weights = Weights::random(&net, b.u64());
    let plan = match Plan::new(&net, &weights, shape) {
        Ok(plan) => plan,
        Err(e) => {
            let message = e.to_string();
            assert!(
                names.iter().any(|n| message.contains(n.as_str())),
                "the planner's error names no layer: {message}"
            );
            return;
        }
    };
    assert!(shape.n > 0 && shape.h > 0 && shape.w > 0, "planned for an empty input {shape:?}");
    let mut ws = Workspace::new(&plan, Threads::Pool(pool())).expect("a workspace for a planned net");
    let x = lineage_kernels::testing::uniform_values(7, shape.n * shape.h * shape.w * shape.c);
    let y = plan.run(Input::Nhwc(&x), &mut ws).expect("a planned network runs on its input shape");
    let out = y.shape();
    for p in 0..out.n * out.h * out.w {
        assert!(
            y.pixel(p).iter().all(|v| v.is_finite()),
            "finite input gave non-finite output: {:?}",
            y.pixel(p)
        );
    }
}
