//! The architectures match torchvision: parameter counts, names and shapes.

use lineage_kernels::{Activation, Shape};
use lineage_nets::{models, ConvSpec, NetBuilder};

/// `sum(p.numel() for p in torchvision.models.X().parameters())`, from torchvision's docs.
const TORCHVISION_PARAMS: [(&str, usize); 6] = [
    ("resnet18", 11_689_512),
    ("resnet34", 21_797_672),
    ("resnet50", 25_557_032),
    ("resnet101", 44_549_160),
    ("resnet152", 60_192_808),
    ("mobilenet_v2", 3_504_872),
];

#[test]
fn parameter_counts_equal_torchvision() {
    for (name, expected) in TORCHVISION_PARAMS {
        let net = models::by_name(name).unwrap();
        assert_eq!(net.parameter_count(), expected, "{name}");
        let summary = net.summary(Shape::new(1, 224, 224, 3)).unwrap();
        assert_eq!(summary.total_params, expected, "{name}: per-layer counts must add up");
    }
}

#[test]
fn resnet50_shapes_macs_and_receptive_field() {
    let net = models::by_name("resnet50").unwrap();
    let s = net.summary(Shape::new(1, 224, 224, 3)).unwrap();
    let layer = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap_or_else(|| panic!("no layer {n}"));
    // conv1: 7x7 stride 2 -> 112x112x64, 118M MACs; rf 7, jump 2.
    let c1 = layer("conv1");
    assert_eq!(c1.output, Shape::new(1, 112, 112, 64));
    assert_eq!(c1.macs, 112 * 112 * 64 * 3 * 49);
    assert_eq!((c1.receptive_field, c1.jump), (7, 2));
    // maxpool 3x3 s2: rf 7 + 2*2 = 11, jump 4.
    assert_eq!((layer("maxpool").receptive_field, layer("maxpool").jump), (11, 4));
    assert_eq!(layer("layer4.2.add").output, Shape::new(1, 7, 7, 2048));
    assert_eq!(layer("layer4.2.add").jump, 32);
    assert_eq!(layer("fc").output, Shape::new(1, 1, 1, 1000));
    // The well-known 4.1 GMAC of ResNet-50 at 224x224.
    assert!((4.08e9..4.13e9).contains(&(s.total_macs as f64)), "{}", s.total_macs);
}

#[test]
fn mobilenet_v2_names_follow_torchvision() {
    let net = models::by_name("mobilenet_v2").unwrap();
    let names: Vec<String> = net.parameters().into_iter().map(|p| p.name).collect();
    for expected in [
        "features.0.0.weight",
        "features.0.1.running_var",
        "features.1.conv.0.0.weight",
        "features.1.conv.1.weight",
        "features.1.conv.2.bias",
        "features.2.conv.0.0.weight",
        "features.2.conv.1.0.weight",
        "features.2.conv.2.weight",
        "features.2.conv.3.running_mean",
        "features.18.0.weight",
        "classifier.1.weight",
        "classifier.1.bias",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
    let s = net.summary(Shape::new(1, 224, 224, 3)).unwrap();
    // ~300 MMAC is MobileNet v2's published cost.
    assert!((2.9e8..3.2e8).contains(&(s.total_macs as f64)), "{}", s.total_macs);
    let dw = s.layers.iter().find(|l| l.name == "features.2.conv.1.0").unwrap();
    assert_eq!(dw.kind, "dwconv");
    assert_eq!(dw.output, Shape::new(1, 56, 56, 96));
}

#[test]
fn shape_errors_name_the_layer() {
    let net = models::by_name("resnet50").unwrap();
    let err = net.summary(Shape::new(1, 224, 224, 4)).unwrap_err().to_string();
    assert!(err.contains("4 channels"), "{err}");

    let (mut b, x) = NetBuilder::new("tiny", 3).unwrap();
    let y = b.conv("big", x, ConvSpec::new(8, 5, 1, 0), Activation::None).unwrap();
    let z = b.conv("strided", x, ConvSpec::new(8, 1, 2, 0), Activation::None).unwrap();
    let s = b.add("sum", y, z, Activation::Relu).unwrap();
    let net = b.finish(s).unwrap();
    let err = net.summary(Shape::new(1, 3, 3, 3)).unwrap_err().to_string();
    assert!(err.contains("big") && err.contains("extent 5"), "{err}");
    let err = net.summary(Shape::new(1, 10, 10, 3)).unwrap_err().to_string();
    assert!(err.contains("sum") && err.contains("h: 6") && err.contains("h: 5"), "{err}");
}

#[test]
fn builder_rejects_bad_descriptions() {
    let (mut b, x) = NetBuilder::new("tiny", 3).unwrap();
    b.conv("c", x, ConvSpec::new(8, 3, 1, 1), Activation::None).unwrap();
    let err = b.conv("c", x, ConvSpec::new(8, 3, 1, 1), Activation::None).unwrap_err().to_string();
    assert!(err.contains("duplicate") && err.contains("\"c\""), "{err}");
    let err = b.conv("g", x, ConvSpec::new(8, 3, 1, 1).groups(2), Activation::None).unwrap_err().to_string();
    assert!(err.contains("g") && err.contains("groups"), "{err}");
    let y = b.conv("d", x, ConvSpec::new(4, 1, 1, 0), Activation::None).unwrap();
    let err = b.add("a", x, y, Activation::None).unwrap_err().to_string();
    assert!(err.contains("3 channels") && err.contains("4 channels"), "{err}");
}

#[test]
fn unknown_model_is_an_error() {
    let err = models::by_name("resnet51").unwrap_err().to_string();
    assert!(err.contains("resnet51") && err.contains("resnet50"), "{err}");
}

#[test]
fn conv_layers_list_every_convolution_with_its_input() {
    let net = models::by_name("resnet50").unwrap();
    let convs = net.conv_layers(Shape::new(1, 224, 224, 3)).unwrap();
    assert_eq!(convs.len(), 53);
    assert_eq!(convs[0].name, "conv1");
    assert_eq!(convs[0].input, Shape::new(1, 224, 224, 3));
    let c = convs.iter().find(|c| c.name == "layer3.0.conv2").unwrap();
    assert_eq!((c.input, c.params.stride_h, c.params.c_in), (Shape::new(1, 28, 28, 256), 2, 256));
}

/// Width of the pooled features before each model's classifier (torchvision/timm's
/// `num_features`; 4096 where the classifier is an MLP whose last layer is removed).
const FEATURES: [(&str, usize); 29] = [
    ("resnet18", 512),
    ("resnet34", 512),
    ("resnet50", 2048),
    ("resnet101", 2048),
    ("resnet152", 2048),
    ("mobilenet_v2", 1280),
    ("alexnet", 4096),
    ("alexnet_original", 4096),
    ("alexnet_grouped", 4096),
    ("zfnet", 4096),
    ("vgg11", 4096),
    ("vgg13", 4096),
    ("vgg16", 4096),
    ("vgg19", 4096),
    ("vgg11_bn", 4096),
    ("vgg13_bn", 4096),
    ("vgg16_bn", 4096),
    ("vgg19_bn", 4096),
    ("googlenet", 1024),
    ("inception_v2", 1024),
    ("inception_v3", 2048),
    ("inception_v4", 1536),
    ("resnext50_32x4d", 2048),
    ("resnext101_32x8d", 2048),
    ("densenet121", 1024),
    ("densenet161", 2208),
    ("densenet169", 1664),
    ("densenet201", 1920),
    ("mobilenet_v1", 1024),
];

#[test]
fn every_model_takes_any_class_count_and_zero_leaves_the_pooled_features() {
    assert_eq!(FEATURES.map(|(n, _)| n), models::MODELS);
    for (name, features) in FEATURES {
        let size = if matches!(name, "inception_v3" | "inception_v4") { 299 } else { 224 };
        let input = Shape::new(1, size, size, 3);
        let out = |classes| {
            let net = models::with_classes(name, classes).unwrap();
            (*net.infer_shapes(input).unwrap().last().unwrap(), net.parameter_count())
        };
        let (full, full_params) = out(1000);
        let (ten, ten_params) = out(10);
        let (headless, headless_params) = out(0);
        assert_eq!(full, Shape::new(1, 1, 1, 1000), "{name}");
        assert_eq!(ten, Shape::new(1, 1, 1, 10), "{name}");
        assert_eq!(headless, Shape::new(1, 1, 1, features), "{name}");
        // The classifier is a features x classes matrix and a bias.
        assert_eq!(full_params - ten_params, 990 * (features + 1), "{name}");
        assert_eq!(full_params - headless_params, 1000 * (features + 1), "{name}");
    }
    // torchvision's resnet18(num_classes=10).
    assert_eq!(models::with_classes("resnet18", 10).unwrap().parameter_count(), 11_181_642);
}

#[test]
fn the_class_count_of_a_checkpoint_is_read_from_its_classifier() {
    let ten = models::with_classes("densenet121", 10).unwrap();
    let weights = lineage_nets::Weights::random(&ten, 1);
    assert_eq!(models::classes_in("densenet121", &weights).unwrap(), Some(10));
    let headless = models::with_classes("densenet121", 0).unwrap();
    let weights = lineage_nets::Weights::random(&headless, 1);
    assert_eq!(models::classes_in("densenet121", &weights).unwrap(), None);
    assert_eq!(models::fitting(&weights).unwrap(), vec![("densenet121", 0)]);
}
