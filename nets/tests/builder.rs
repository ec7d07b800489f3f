//! Misuse of the network builder is an error naming the layer and the values, never a panic
//! or a wrapped product later on.

use lineage_kernels::{Activation, Shape};
use lineage_nets::{ConvSpec, NetBuilder, Op, PoolSpec};

#[test]
fn a_convolution_whose_weight_count_overflows_is_refused_where_it_is_added() {
    // 2^24 x 2^24 x 2^12 x 2^12 weights (each within the kernels' per-dimension limit): 2^72,
    // more than usize holds (it wrapped in parameter counts and summaries).
    let (mut b, x) = NetBuilder::new("huge", 1 << 24).unwrap();
    let e =
        b.conv("wide", x, ConvSpec::new(1 << 24, 1 << 12, 1, 0), Activation::None).unwrap_err().to_string();
    assert!(e.contains("wide") && e.contains("overflow"), "{e}");
    let e = b.linear("fc", x, 1 << 40, 1 << 40, true).unwrap_err().to_string();
    assert!(e.contains("fc") && e.contains("1099511627776"), "{e}");
    // The largest that fits is accepted and counted exactly.
    let (mut b, x) = NetBuilder::new("big", 1 << 20).unwrap();
    let y = b.conv("wide", x, ConvSpec::new(1 << 20, 1, 1, 0), Activation::None).unwrap();
    assert_eq!(b.finish(y).unwrap().parameter_count(), 1 << 40);
}

#[test]
fn a_value_of_another_builder_is_an_error_even_where_its_index_exists() {
    // Two builders of the same length: every index of one is in range in the other.
    let (mut a, xa) = NetBuilder::new("a", 4).unwrap();
    let (mut b, xb) = NetBuilder::new("b", 4).unwrap();
    let ya = a.activation("relu", xa, Activation::Relu).unwrap();
    let yb = b.activation("relu", xb, Activation::Relu).unwrap();
    assert_eq!((ya.index(), xa.index()), (yb.index(), xb.index()));
    let foreign = "comes from another network builder";
    let errors = [
        b.channels(ya).map(drop),
        b.activation("act", ya, Activation::None).map(drop),
        b.conv("conv", ya, ConvSpec::new(4, 1, 1, 0), Activation::None).map(drop),
        b.add("add", yb, ya, Activation::None).map(drop),
        b.concat("cat", &[yb, ya]).map(drop),
        b.flatten("flatten", xa).map(drop),
        b.linear("fc", ya, 4, 2, true).map(drop),
    ];
    for (i, e) in errors.into_iter().enumerate() {
        let e = e.unwrap_err().to_string();
        assert!(e.contains(foreign), "call {i}: {e}");
    }
    // b's own values still work, and its network refuses a's output and a's values.
    assert!(b.add("sum", yb, xb, Activation::None).is_ok());
    let e = NetBuilder::new("c", 4).unwrap().0.finish(ya).unwrap_err().to_string();
    assert!(e.contains("the output") && e.contains(foreign), "{e}");
    let net = b.finish(yb).unwrap();
    assert_eq!(net.node(yb).unwrap().name(), "relu");
    let e = net.node(ya).unwrap_err().to_string();
    assert!(e.contains("value 1 is not one of its 3 layers"), "{e}");
}

#[test]
fn a_batch_norm_epsilon_must_be_finite_and_not_negative() {
    let (mut b, x) = NetBuilder::new("eps", 3).unwrap();
    for eps in [f32::NAN, -1e-5, f32::INFINITY] {
        let e = b.set_bn_eps(eps).unwrap_err().to_string();
        assert!(e.contains("eps") && e.contains(&eps.to_string()), "{e}");
        let e = b.batch_norm_eps("bn", x, eps, Activation::None).unwrap_err().to_string();
        assert!(e.contains("bn") && e.contains(&eps.to_string()), "{e}");
    }
    // 0 is allowed (an exact affine map), and the builder's epsilon reaches both kinds of layer.
    b.set_bn_eps(0.25).unwrap();
    let y = b.batch_norm("norm", x, Activation::None).unwrap();
    let y = b.conv_bn("conv", "conv.bn", y, ConvSpec::new(2, 1, 1, 0), Activation::None).unwrap();
    let y = b.batch_norm_eps("exact", y, 0.0, Activation::None).unwrap();
    let net = b.finish(y).unwrap();
    let eps: Vec<f32> = net
        .nodes()
        .iter()
        .filter_map(|n| match n.op() {
            Op::BatchNorm { eps, .. } => Some(*eps),
            Op::Conv { bn: Some(bn), .. } => Some(bn.eps),
            _ => None,
        })
        .collect();
    assert_eq!(eps, [0.25, 0.25, 0.0]);
}

#[test]
fn bad_layer_arguments_are_refused_where_they_are_added() {
    let (mut b, x) = NetBuilder::new("small", 3).unwrap();
    let zero_stride = PoolSpec { stride_h: 0, ..PoolSpec::square(2, 2, 0) };
    let e = b.max_pool("pool", x, zero_stride).unwrap_err().to_string();
    assert!(e.contains("pool") && e.contains("stride of 0"), "{e}");
    let e = b.concat("cat", &[]).unwrap_err().to_string();
    assert!(e.contains("cat") && e.contains("concat of nothing"), "{e}");
    let y = b.activation("relu", x, Activation::Relu).unwrap();
    let e = b.activation("relu", y, Activation::Relu).unwrap_err().to_string();
    assert!(e.contains("duplicate layer name \"relu\""), "{e}");
    let c = b.conv("conv", y, ConvSpec::new(4, 1, 1, 0), Activation::None).unwrap();
    let e = b.add("add", c, y, Activation::None).unwrap_err().to_string();
    assert!(e.contains("add") && e.contains("adding 4 channels to 3 channels"), "{e}");
    // Shapes that only an input size decides are errors of shape inference, naming the layer.
    let f = b.flatten("flatten", c).unwrap();
    let fc = b.linear("fc", f, 4, 2, true).unwrap();
    let e = b.finish(fc).unwrap().infer_shapes(Shape::new(1, 2, 2, 3)).unwrap_err().to_string();
    assert!(e.contains("layer fc") && e.contains("expects 4 features"), "{e}");
}
