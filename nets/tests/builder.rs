//! Misuse of the network builder is an error naming the layer and the values, never a panic
//! or a wrapped product later on.

use lineage_kernels::Activation;
use lineage_nets::{ConvSpec, NetBuilder};

#[test]
fn a_convolution_whose_weight_count_overflows_is_refused_where_it_is_added() {
    // 2^24 x 2^24 x 2^12 x 2^12 weights (each within the kernels' per-dimension limit): 2^72,
    // more than usize holds (it wrapped in parameter counts and summaries).
    let (mut b, x) = NetBuilder::new("huge", 1 << 24).unwrap();
    let e = b.conv("wide", x, ConvSpec::new(1 << 24, 1 << 12, 1, 0), Activation::None).unwrap_err().to_string();
    assert!(e.contains("wide") && e.contains("overflow"), "{e}");
    let e = b.linear("fc", x, 1 << 40, 1 << 40, true).unwrap_err().to_string();
    assert!(e.contains("fc") && e.contains("1099511627776"), "{e}");
    // The largest that fits is accepted and counted exactly.
    let (mut b, x) = NetBuilder::new("big", 1 << 20).unwrap();
    let y = b.conv("wide", x, ConvSpec::new(1 << 20, 1, 1, 0), Activation::None).unwrap();
    assert_eq!(b.finish(y).unwrap().parameter_count(), 1 << 40);
}
