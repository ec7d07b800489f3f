//! `Net::validate`, the guard `NetBuilder::finish` runs on every network: outside this module
//! a network cannot be edited, so these cases break a finished one from the inside.

use lineage_kernels::{Activation, Shape};

use super::{ConvSpec, Net, NetBuilder, Op, PoolSpec, Value};

/// A small valid net: input -> conv -> pool -> global pool -> flatten -> linear.
fn small() -> Net {
    let (mut b, x) = NetBuilder::new("small", 3).unwrap();
    let y = b.conv_bn("conv", "bn", x, ConvSpec::new(4, 3, 1, 1), Activation::Relu).unwrap();
    let y = b.max_pool("pool", y, PoolSpec::square(2, 2, 0)).unwrap();
    let y = b.global_avg_pool("gap", y).unwrap();
    let y = b.flatten("flatten", y).unwrap();
    let y = b.linear("fc", y, 4, 2, true).unwrap();
    b.finish(y).unwrap()
}

type Edit = Box<dyn Fn(&mut Net)>;

#[test]
fn a_broken_network_is_an_error_naming_the_layer() {
    let net = small();
    assert!(net.validate().is_ok());
    assert!(net.infer_shapes(Shape::new(1, 8, 8, 3)).is_ok());
    let nine = Value { builder: net.builder, index: 9 };
    let foreign = Value { builder: net.builder + 1, index: 0 };
    let cases: Vec<(&str, Edit)> = vec![
        ("layer 1 (conv): input 9 is not an earlier layer", Box::new(move |n| n.nodes[1].inputs[0] = nine)),
        ("layer 2 (pool): input 0 is not an earlier layer of this network", {
            Box::new(move |n| n.nodes[2].inputs[0] = foreign)
        }),
        (
            "layer 2 (pool): a add layer with 1 inputs",
            Box::new(|n| n.nodes[2].op = Op::Add { act: Activation::None }),
        ),
        (
            "stride of 0",
            Box::new(|n| {
                if let Op::MaxPool(p) = &mut n.nodes[2].op {
                    p.stride_h = 0;
                }
            }),
        ),
        (
            "layer 1 (conv): batch-norm epsilon NaN",
            Box::new(|n| {
                if let Op::Conv { bn: Some(bn), .. } = &mut n.nodes[1].op {
                    bn.eps = f32::NAN;
                }
            }),
        ),
        ("a flatten layer with 0 inputs", Box::new(|n| n.nodes[4].inputs.clear())),
        ("the output is not one of the 6 layers", Box::new(move |n| n.output = nine)),
        ("the output is not one of the 6 layers", Box::new(move |n| n.output = foreign)),
        ("says 5 output channels", Box::new(|n| n.nodes[1].channels = 5)),
        ("layer 3 (gap): a input layer with 1 inputs", Box::new(|n| n.nodes[3].op = Op::Input)),
    ];
    for (says, edit) in cases {
        let mut broken = small();
        edit(&mut broken);
        let e = broken.validate().unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
}
