//! The case-study architectures (issue 6): parameter counts equal the reference
//! implementations', the receptive field of each model's last convolution equals a hand
//! derivation, names follow the references, and the case study's claims hold.

use lineage_kernels::{Activation, Shape};
use lineage_nets::models::{googlenet, inception_v3};
use lineage_nets::{models, ConvSpec, Net, NetBuilder, Op, Summary};

/// `sum(p.numel() for p in model.parameters())` of the reference (torchvision 0.29 / timm 1.0 /
/// pytorchcv 0.0.74), without auxiliary heads. alexnet_original is counted by hand below;
/// alexnet_grouped is PyTorch's count of `alexnet_original(groups=2)` in bench/peers/compare.py
/// (torch 2.x).
const REFERENCE_PARAMS: [(&str, usize); 22] = [
    ("alexnet", 61_100_840),
    ("zfnet", 62_357_608),
    ("vgg11", 132_863_336),
    ("vgg13", 133_047_848),
    ("vgg16", 138_357_544),
    ("vgg19", 143_667_240),
    ("vgg11_bn", 132_868_840),
    ("vgg13_bn", 133_053_736),
    ("vgg16_bn", 138_365_992),
    ("vgg19_bn", 143_678_248),
    ("googlenet", 6_624_904),
    ("inception_v3", 23_834_568),
    ("inception_v4", 42_679_816),
    ("resnext50_32x4d", 25_028_904),
    ("resnext101_32x8d", 88_791_336),
    ("densenet121", 7_978_856),
    ("densenet161", 28_681_000),
    ("densenet169", 14_149_480),
    ("densenet201", 20_013_928),
    ("mobilenet_v1", 4_231_976),
    ("alexnet_original", ALEXNET_ORIGINAL),
    ("alexnet_grouped", 60_965_224),
];

/// The 2012 layer list in one group: weights + biases of each conv, then the three FCs.
const ALEXNET_ORIGINAL: usize = (96 * 3 * 11 * 11 + 96)
    + (256 * 96 * 5 * 5 + 256)
    + (384 * 256 * 3 * 3 + 384)
    + (384 * 384 * 3 * 3 + 384)
    + (256 * 384 * 3 * 3 + 256)
    + (4096 * 256 * 6 * 6 + 4096)
    + (4096 * 4096 + 4096)
    + (1000 * 4096 + 1000);

fn input_of(name: &str) -> Shape {
    if name.starts_with("inception") {
        Shape::new(1, 299, 299, 3)
    } else {
        Shape::new(1, 224, 224, 3)
    }
}

fn summary(name: &str) -> Summary {
    models::by_name(name).unwrap().summary(input_of(name)).unwrap()
}

#[test]
fn parameter_counts_equal_the_references() {
    for (name, expected) in REFERENCE_PARAMS {
        let net = models::by_name(name).unwrap();
        assert_eq!(net.parameter_count(), expected, "{name}");
        assert_eq!(net.summary(input_of(name)).unwrap().total_params, expected, "{name}: per-layer sum");
    }
    assert!(models::MODELS.iter().all(|m| models::by_name(m).is_ok()));
}

/// (model, last convolution, receptive field, jump), derived by hand along the height axis:
/// each conv/pool adds (k - 1) * jump and multiplies the jump by its stride; a concat or add
/// takes its widest input. Factorized 1xN convs add nothing along the height.
const LAST_CONV_RF: [(&str, &str, usize, usize); 22] = [
    // 11/4 -> 11, j4; pool 3/2 -> 19, j8; 5x5 -> 51; pool -> 67, j16; three 3x3 -> 99, 131, 163.
    ("alexnet", "features.10", 163, 16),
    ("alexnet_original", "features.12", 163, 16),
    ("alexnet_grouped", "features.12", 163, 16),
    // 7/2 -> 7, j2; pool 3/2 -> 11, j4; 5/2 -> 27, j8; pool -> 43, j16; three 3x3 -> 75, 107, 139.
    ("zfnet", "features.stage3.unit3.conv", 139, 16),
    // 3x3 convs add 2j, 2x2/2 pools add j: (1+2)+1 j2 | 8+2 j4 | 18,26,+4 j8 | 46,62,+8 j16 | 102,134.
    ("vgg11", "features.18", 134, 16),
    // 5,+1 | 14,+2 | 32,+4 | 68,+8 | 140.
    ("vgg13", "features.22", 140, 16),
    // 5,+1 | 14,+2 | 40,+4 | 92,+8 | 196 (212 after the last pool, the classic figure).
    ("vgg16", "features.28", 196, 16),
    // 5,+1 | 14,+2 | 48,+4 | 116,+8 | 252.
    ("vgg19", "features.34", 252, 16),
    ("vgg11_bn", "features.25", 134, 16),
    ("vgg13_bn", "features.31", 140, 16),
    ("vgg16_bn", "features.40", 196, 16),
    ("vgg19_bn", "features.49", 252, 16),
    // conv1 7/2 -> 7 j2; pool -> 11 j4; conv3 -> 19; pool -> 27 j8; 3a, 3b +16 each -> 59;
    // pool -> 75 j16; 4a-4e +32 each -> 235; pool 2/2 -> 251 j32; 5a +64 -> 315; 5b's pool
    // branch: 3x3 pool +64 -> 379, then its 1x1.
    ("googlenet", "inception5b.branch4.1.conv", 379, 32),
    // stem 3,7,11, pool 15 j4, 23, pool 31 j8; A x3 (+32) 127; B 159 j16; C x4 (+192) 927;
    // D 1055 j32; E (+128) 1183; 7c's pool branch +64 -> 1247.
    ("inception_v3", "Mixed_7c.branch_pool.conv", 1247, 32),
    // stem 3,7,11; 3a 15 j4; 4a 47; 5a 55 j8; A x4 (+32) 183; RA 215 j16; B x7 (+192) 1559;
    // RB 1687 j32; C x2 (+128) 1943; the last C's pool branch +64 -> 2007.
    ("inception_v4", "features.21.branch3.1.conv", 2007, 32),
    // 7 j2; pool 11 j4; layer1 +8 x3 -> 35; layer2 43 j8 +16 x3 -> 91; layer3 107 j16 +32 x5
    // -> 267; layer4 299 j32 +64 x2 -> 427 (conv3 is 1x1).
    ("resnext50_32x4d", "layer4.2.conv3", 427, 32),
    // as above with 23 blocks in layer3: 107 + 32 x 22 = 811; 843 + 128 = 971.
    ("resnext101_32x8d", "layer4.2.conv3", 971, 32),
    // 7 j2; pool 11 j4; block1 +8 x6 -> 59; transition (2x2 pool) 63 j8; block2 +16 x12 -> 255;
    // 263 j16; block3 +32 x24 -> 1031; 1047 j32; block4 +64 x16 -> 2071.
    ("densenet121", "features.denseblock4.denselayer16.conv2", 2071, 32),
    // 59; 63 + 16 x 12 = 255; 263 + 32 x 36 = 1415; 1431 + 64 x 24 = 2967.
    ("densenet161", "features.denseblock4.denselayer24.conv2", 2967, 32),
    // 263 + 32 x 32 = 1287; 1303 + 64 x 32 = 3351.
    ("densenet169", "features.denseblock4.denselayer32.conv2", 3351, 32),
    // 263 + 32 x 48 = 1799; 1815 + 64 x 32 = 3863.
    ("densenet201", "features.denseblock4.denselayer32.conv2", 3863, 32),
    // stem 3 j2; dw 3x3 adds 2j: 7; 11 j4; 19; 27 j8; 43; 59 j16; +32 x5 -> 219; 251 j32; 315.
    ("mobilenet_v1", "blocks.4.1.conv_pw", 315, 32),
];

#[test]
fn last_conv_receptive_fields_equal_hand_derivations() {
    for (name, layer, rf, jump) in LAST_CONV_RF {
        let s = summary(name);
        let last = s.layers.iter().rev().find(|l| l.kind.ends_with("conv")).unwrap();
        assert_eq!(last.name, layer, "{name}: last conv");
        assert_eq!((last.receptive_field, last.jump), (rf, jump), "{name}: {layer}");
    }
}

#[test]
fn feature_map_sizes_follow_the_papers() {
    let s = summary("zfnet");
    let side = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap().output.h;
    // Zeiler & Fergus, figure 3: 110, 55, 26, 13, 13, 13, 6.
    let sides: Vec<usize> = [
        "features.stage1.unit1.conv",
        "features.stage1.pool1",
        "features.stage2.unit1.conv",
        "features.stage2.pool2",
        "features.stage3.unit3.conv",
        "features.stage3.pool3",
    ]
    .iter()
    .map(|n| side(n))
    .collect();
    assert_eq!(sides, vec![110, 55, 26, 13, 13, 6]);
    let s = summary("alexnet_original");
    let side = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap().output;
    assert_eq!(side("features.0"), Shape::new(1, 55, 55, 96));
    assert_eq!(side("features.7"), Shape::new(1, 13, 13, 256));
    assert_eq!(side("features.14"), Shape::new(1, 6, 6, 256));
    let s = summary("inception_v3");
    let out = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap().output;
    assert_eq!(out("Mixed_5d.cat"), Shape::new(1, 35, 35, 288));
    assert_eq!(out("Mixed_6e.cat"), Shape::new(1, 17, 17, 768));
    assert_eq!(out("Mixed_7c.cat"), Shape::new(1, 8, 8, 2048));
    let s = summary("inception_v4");
    let out = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap().output;
    assert_eq!(out("features.5.cat"), Shape::new(1, 35, 35, 384));
    assert_eq!(out("features.17.cat"), Shape::new(1, 17, 17, 1024));
    assert_eq!(out("features.21.cat"), Shape::new(1, 8, 8, 1536));
    let s = summary("densenet121");
    let out = |n: &str| s.layers.iter().find(|l| l.name == n).unwrap().output;
    assert_eq!(out("features.denseblock1.denselayer6.cat"), Shape::new(1, 56, 56, 256));
    assert_eq!(out("features.denseblock4.denselayer16.cat"), Shape::new(1, 7, 7, 1024));
}

fn parameter_names(name: &str) -> Vec<String> {
    models::by_name(name).unwrap().parameters().into_iter().map(|p| p.name).collect()
}

#[test]
fn names_follow_the_references() {
    let cases: [(&str, &[&str]); 9] = [
        (
            "alexnet_original",
            &[
                "features.0.bias",
                "features.4.weight",
                "features.12.weight",
                "classifier.1.weight",
                "classifier.6.bias",
            ],
        ),
        (
            "zfnet",
            &[
                "features.stage1.unit1.conv.weight",
                "features.stage3.unit3.conv.bias",
                "output.fc1.fc.weight",
                "output.fc3.bias",
            ],
        ),
        (
            "vgg16_bn",
            &[
                "features.0.weight",
                "features.1.running_var",
                "features.41.weight",
                "classifier.0.weight",
                "classifier.3.bias",
            ],
        ),
        (
            "googlenet",
            &[
                "conv1.conv.weight",
                "conv1.bn.running_mean",
                "inception3a.branch2.1.conv.weight",
                "inception5b.branch4.1.bn.bias",
                "fc.weight",
            ],
        ),
        (
            "inception_v3",
            &[
                "Conv2d_1a_3x3.conv.weight",
                "Mixed_6b.branch7x7dbl_5.conv.weight",
                "Mixed_7c.branch3x3dbl_3b.bn.running_var",
                "fc.bias",
            ],
        ),
        (
            "inception_v4",
            &[
                "features.0.conv.weight",
                "features.3.conv.conv.weight",
                "features.5.conv.bn.weight",
                "features.19.branch2_3b.conv.weight",
                "features.11.branch3.1.bn.bias",
                "last_linear.weight",
            ],
        ),
        (
            "resnext50_32x4d",
            &[
                "layer1.0.conv2.weight",
                "layer2.0.downsample.0.weight",
                "layer4.2.bn3.running_mean",
                "fc.weight",
            ],
        ),
        (
            "densenet121",
            &[
                "features.conv0.weight",
                "features.norm0.bias",
                "features.denseblock1.denselayer1.norm1.running_var",
                "features.denseblock3.denselayer24.conv2.weight",
                "features.transition2.conv.weight",
                "features.norm5.weight",
                "classifier.bias",
            ],
        ),
        (
            "mobilenet_v1",
            &[
                "conv_stem.weight",
                "bn1.weight",
                "blocks.0.0.conv_dw.weight",
                "blocks.3.5.bn2.running_mean",
                "blocks.4.1.conv_pw.weight",
                "classifier.weight",
            ],
        ),
    ];
    for (model, expected) in cases {
        let names = parameter_names(model);
        for e in expected {
            assert!(names.iter().any(|n| n == e), "{model}: missing {e}");
        }
    }
    // Shapes that pin the structure: grouped 3x3 of ResNeXt, 5x5 of ZFNet's second stage.
    let net = models::by_name("resnext50_32x4d").unwrap();
    let p = net.parameters();
    let shape = |n: &str| p.iter().find(|q| q.name == n).unwrap().shape.clone();
    assert_eq!(shape("layer1.0.conv2.weight"), vec![128, 4, 3, 3]);
    assert_eq!(shape("layer4.0.conv2.weight"), vec![1024, 32, 3, 3]);
    let p = models::by_name("resnext101_32x8d").unwrap().parameters();
    assert_eq!(p.iter().find(|q| q.name == "layer1.0.conv2.weight").unwrap().shape, vec![256, 8, 3, 3]);
    let p = models::by_name("mobilenet_v1").unwrap().parameters();
    assert_eq!(p.iter().find(|q| q.name == "blocks.3.0.conv_dw.weight").unwrap().shape, vec![256, 1, 3, 3]);
}

#[test]
fn inception_batch_norms_use_eps_1e_3() {
    for name in ["googlenet", "inception_v3", "inception_v4"] {
        let net = models::by_name(name).unwrap();
        let eps: Vec<f32> = net
            .nodes()
            .iter()
            .filter_map(|n| match n.op() {
                Op::Conv { bn: Some(b), .. } => Some(b.eps),
                _ => None,
            })
            .collect();
        assert!(!eps.is_empty() && eps.iter().all(|&e| e == 1e-3), "{name}");
    }
    // torchvision's transform_input is an exact affine map: its batch norm has epsilon 0.
    for net in
        [googlenet::googlenet_with(1000, true).unwrap(), inception_v3::inception_v3_with(1000, true).unwrap()]
    {
        let first = &net.nodes()[1];
        assert_eq!(first.name(), googlenet::TRANSFORM_INPUT, "{}", net.name());
        assert!(
            matches!(first.op(), Op::BatchNorm { eps, .. } if *eps == 0.0),
            "{}: {:?}",
            net.name(),
            first.op()
        );
    }
    let net = models::by_name("densenet121").unwrap();
    assert!(net.nodes().iter().all(|n| match n.op() {
        Op::Conv { bn: Some(b), .. } => b.eps == 1e-5,
        Op::BatchNorm { eps, .. } => *eps == 1e-5,
        _ => true,
    }));
}

/// A net with one input of `c` channels and the given convs in sequence.
fn chain(c: usize, convs: &[ConvSpec]) -> Net {
    let (mut b, mut y) = NetBuilder::new("chain", c).unwrap();
    for (i, spec) in convs.iter().enumerate() {
        y = b.conv(&format!("conv{i}"), y, *spec, Activation::Relu).unwrap();
    }
    b.finish(y).unwrap()
}

#[test]
fn two_3x3_convs_see_a_5x5_window_with_18_25_of_its_weights() {
    let c = 64;
    let input = Shape::new(1, 32, 32, c);
    let stacked = chain(c, &[ConvSpec::new(c, 3, 1, 1), ConvSpec::new(c, 3, 1, 1)]).summary(input).unwrap();
    let single = chain(c, &[ConvSpec::new(c, 5, 1, 2)]).summary(input).unwrap();
    let rf = |s: &Summary| s.layers.last().unwrap().receptive_field;
    assert_eq!(rf(&stacked), 5);
    assert_eq!(rf(&single), 5);
    // 2 * 9 * C^2 against 25 * C^2: exactly 18/25.
    assert_eq!(stacked.total_params * 25, single.total_params * 18);
    // In VGG itself: features.2 (the second 3x3 conv) sees 5x5 input pixels.
    let vgg = summary("vgg16");
    assert_eq!(vgg.layers.iter().find(|l| l.name == "features.2").unwrap().receptive_field, 5);
}

#[test]
fn googlenet_has_over_20x_fewer_parameters_than_vgg16() {
    let g = models::by_name("googlenet").unwrap().parameter_count();
    let v = models::by_name("vgg16").unwrap().parameter_count();
    assert!(g * 20 < v, "googlenet {g} x 20 vs vgg16 {v}");
}

#[test]
fn mobilenet_v1_separable_blocks_cost_1_over_n_plus_1_over_dk2_of_a_standard_conv() {
    let s = summary("mobilenet_v1");
    let mut blocks = 0;
    for (i, dw) in s.layers.iter().enumerate().filter(|(_, l)| l.kind == "dwconv") {
        let pw = &s.layers[i + 1];
        assert_eq!(pw.kind, "conv");
        let input = s.layers[i - 1].output; // what the block reads
        let (m, n, dk) = (input.c, pw.output.c, 3usize);
        let stride = input.h / dw.output.h;
        // The standard conv the block replaces: Dk x Dk, M -> N, same stride and padding.
        let standard = chain(m, &[ConvSpec::new(n, dk, stride, 1)]).summary(input).unwrap();
        let std_macs = standard.layers.last().unwrap().macs;
        assert_eq!(standard.layers.last().unwrap().output, pw.output);
        // (dw + pw) / std == 1/N + 1/Dk^2 == (Dk^2 + N) / (N Dk^2), cross-multiplied exactly.
        let separable = (dw.macs + pw.macs) as u128;
        let (n, dk2) = (n as u128, (dk * dk) as u128);
        assert_eq!(separable * n * dk2, std_macs as u128 * (dk2 + n), "{}", dw.name);
        blocks += 1;
    }
    assert_eq!(blocks, 13);
    // The paper's 569M MACs (the FC adds 1M).
    assert!((5.68e8..5.70e8).contains(&(s.total_macs as f64)), "{}", s.total_macs);
}

/// Multiply-accumulates of conv and linear layers counted in PyTorch with forward hooks
/// (conv: output elements x in/groups x kh x kw; linear: in x out) on the reference models
/// (224x224, 299x299 for the Inceptions).
const PYTORCH_MACS: [(&str, u64); 8] = [
    ("zfnet", 1_168_032_896),
    ("vgg16", 15_470_264_320),
    ("googlenet", 1_498_376_192),
    ("inception_v3", 5_713_216_096),
    ("inception_v4", 12_253_974_624),
    ("resnext50_32x4d", 4_230_479_872),
    ("densenet121", 2_834_161_664),
    ("mobilenet_v1", 568_740_352),
];

#[test]
fn mac_counts_equal_pytorch_hook_counts() {
    for (name, macs) in PYTORCH_MACS {
        assert_eq!(summary(name).total_macs, macs, "{name}");
    }
}
