//! Misuse of the network builder is an error naming the layer and the values, never a panic
//! or a wrapped product later on.

use lineage_kernels::Activation;
use lineage_nets::{ConvSpec, NetBuilder};

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

/// A small valid net: input -> conv -> pool -> flatten -> linear.
fn small() -> lineage_nets::Net {
    let (mut b, x) = NetBuilder::new("small", 3).unwrap();
    let y = b.conv("conv", x, ConvSpec::new(4, 3, 1, 1), Activation::Relu).unwrap();
    let y = b.max_pool("pool", y, lineage_nets::PoolSpec::square(2, 2, 0)).unwrap();
    let y = b.global_avg_pool("gap", y).unwrap();
    let y = b.flatten("flatten", y).unwrap();
    let y = b.linear("fc", y, 4, 2, true).unwrap();
    b.finish(y).unwrap()
}

/// A change to a finished network's public fields.
type Edit = Box<dyn Fn(&mut lineage_nets::Net)>;

#[test]
fn a_hand_edited_net_is_an_error_naming_the_layer_not_a_panic() {
    use lineage_kernels::Shape;
    use lineage_nets::{Op, Weights};
    let input = Shape::new(1, 8, 8, 3);
    assert!(small().infer_shapes(input).is_ok());
    // Values of another, larger network (its layers 6 and 9).
    let (mut other, x) = NetBuilder::new("other", 3).unwrap();
    let mut values = vec![x];
    for i in 0..9 {
        values.push(other.activation(&format!("a{i}"), values[i], Activation::Relu).unwrap());
    }
    let (six, nine) = (values[6], values[9]);
    let cases: Vec<(&str, Edit)> = vec![
        ("input 9 is not an earlier layer", Box::new(move |n| n.nodes[1].inputs[0] = nine)),
        ("a add layer with 1 inputs", Box::new(|n| n.nodes[2].op = Op::Add { act: Activation::None })),
        (
            "stride of 0",
            Box::new(|n| {
                if let Op::MaxPool(p) = &mut n.nodes[2].op {
                    p.stride_h = 0;
                }
            }),
        ),
        ("a flatten layer with 0 inputs", Box::new(|n| n.nodes[4].inputs.clear())),
        ("the output is not one of the 6 layers", Box::new(move |n| n.output = six)),
        ("says 5 output channels", Box::new(|n| n.nodes[1].channels = 5)),
    ];
    for (says, edit) in cases {
        let mut net = small();
        edit(&mut net);
        let e = net.infer_shapes(input).unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
        let weights = Weights::random(&small(), 1);
        assert!(lineage_nets::Plan::new(&net, &weights, input).is_err(), "{says}");
    }
    // A value of another, larger network is an error, not an index out of bounds.
    let e = small().node(nine).unwrap_err().to_string();
    assert!(e.contains("value 9 is not one of its 6 layers"), "{e}");
}
