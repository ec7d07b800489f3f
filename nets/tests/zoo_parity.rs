//! Parity of the case-study blocks and networks with PyTorch: the committed block fixtures
//! (torchvision / timm modules with perturbed batch-norm statistics, their inputs and outputs;
//! Inception blocks with every width divided by 16), and whole networks from
//! `LINEAGE_PARITY_DIR` when it is set.

mod common;

use common::parity::{fixture, nhwc_shape, parity, whole_networks_match};
use lineage_nets::models::googlenet::{self, INCEPTION_BN_EPS};
use lineage_nets::models::{alexnet, densenet, inception_v3 as v3, inception_v4 as v4, mobilenet_v1, resnet};
use lineage_nets::{NetBuilder, PoolSpec, Result, Value, Weights};

type Build = fn(&mut NetBuilder, Value, &Weights) -> Result<Value>;

/// Builds the block of fixture `name` named as in its module (prefix ""), with BN eps `eps`,
/// and checks it against PyTorch.
fn check_block(name: &str, eps: f32, build: Build) {
    let weights = Weights::load(&fixture(name)).unwrap();
    let config = weights.metadata().get("config").cloned().unwrap_or_default();
    if eps != 1e-5 {
        assert!(config.contains("\"bn_eps\": [0.001]"), "{name}: config {config}");
    }
    let input = nhwc_shape(weights.get("input").unwrap());
    let (mut b, x) = NetBuilder::new(name, input.c).unwrap();
    b.set_bn_eps(eps).unwrap();
    let y = build(&mut b, x, &weights).unwrap();
    let net = b.finish(y).unwrap();
    let err = parity(&net, weights);
    eprintln!("{name}: max|lineage - torch| / max|torch| = {err:.2e}");
    assert!(err < 1e-5, "{name}: {err:e}");
}

fn channels(w: &Weights, tensor: &str) -> usize {
    w.get(tensor).unwrap_or_else(|| panic!("no {tensor}")).shape[0]
}

#[test]
fn alexnet_lrn_stage_matches_pytorch() {
    check_block("alexnet_lrn_stage", 1e-5, |b, x, w| {
        let spec = lineage_nets::ConvSpec::new(channels(w, "0.weight"), 11, 4, 2).with_bias();
        let y = b.conv("0", x, spec, lineage_kernels::Activation::Relu)?;
        let y = b.lrn("2", y, alexnet::PAPER_LRN)?;
        b.max_pool("3", y, PoolSpec::square(3, 2, 0))
    });
}

#[test]
fn alexnet_grouped_features_match_pytorch() {
    // alexnet_grouped's feature extractor with every width / 8: groups = 2 in conv2, conv4, conv5.
    check_block("alexnet_grouped_features", 1e-5, |b, x, w| {
        let widths = ["features.0", "features.4", "features.8", "features.10", "features.12"]
            .map(|l| channels(w, &format!("{l}.weight")));
        assert_eq!(w.get("features.10.weight").unwrap().shape[1], widths[2] / 2, "conv4 is grouped");
        alexnet::paper_features(b, x, widths, 2)
    });
}

#[test]
fn googlenet_inception_matches_pytorch() {
    check_block("googlenet_inception3a", INCEPTION_BN_EPS, |b, x, w| {
        let c = |t: &str| channels(w, &format!("{t}.conv.weight"));
        let widths = googlenet::InceptionWidths {
            ch1x1: c("branch1"),
            ch3x3red: c("branch2.0"),
            ch3x3: c("branch2.1"),
            ch5x5red: c("branch3.0"),
            ch5x5: c("branch3.1"),
            pool_proj: c("branch4.1"),
        };
        googlenet::inception(b, "", x, widths)
    });
}

#[test]
fn inception_v3_modules_match_pytorch() {
    let eps = INCEPTION_BN_EPS;
    check_block("inception_v3_InceptionA", eps, |b, x, _| v3::inception_a(b, "", x, 32, 16));
    check_block("inception_v3_InceptionB", eps, |b, x, _| v3::inception_b(b, "", x, 16));
    check_block("inception_v3_InceptionC", eps, |b, x, _| v3::inception_c(b, "", x, 128, 16));
    check_block("inception_v3_InceptionD", eps, |b, x, _| v3::inception_d(b, "", x, 16));
    check_block("inception_v3_InceptionE", eps, |b, x, _| v3::inception_e(b, "", x, 16));
}

#[test]
fn inception_v4_modules_match_pytorch() {
    let eps = INCEPTION_BN_EPS;
    check_block("inception_v4_Mixed_3a", eps, |b, x, _| v4::mixed_3a(b, "", x, 16));
    check_block("inception_v4_Mixed_4a", eps, |b, x, _| v4::mixed_4a(b, "", x, 16));
    check_block("inception_v4_Mixed_5a", eps, |b, x, _| v4::mixed_5a(b, "", x, 16));
    check_block("inception_v4_Inception_A", eps, |b, x, _| v4::inception_a(b, "", x, 16));
    check_block("inception_v4_Reduction_A", eps, |b, x, _| v4::reduction_a(b, "", x, 16));
    check_block("inception_v4_Inception_B", eps, |b, x, _| v4::inception_b(b, "", x, 16));
    check_block("inception_v4_Reduction_B", eps, |b, x, _| v4::reduction_b(b, "", x, 16));
    check_block("inception_v4_Inception_C", eps, |b, x, _| v4::inception_c(b, "", x, 16));
}

#[test]
fn resnext_grouped_bottleneck_matches_pytorch() {
    // Bottleneck(64, 32, stride 2, groups 32, base_width 4): width 64, 128 out.
    check_block("resnext_bottleneck_g32", 1e-5, |b, x, _| {
        resnet::residual_block(b, "", x, resnet::Block::Bottleneck { groups: 32, base_width: 4 }, 32, 2)
    });
}

#[test]
fn densenet_block_and_transition_match_pytorch() {
    // _DenseBlock(3 layers, 16 in, bn_size 4, growth 8); _Transition(40 -> 20).
    check_block("densenet_dense_block", 1e-5, |b, x, _| densenet::dense_block(b, "", x, 3, 8, 4));
    check_block("densenet_transition", 1e-5, |b, x, w| {
        densenet::transition(b, "", x, channels(w, "conv.weight"))
    });
}

#[test]
fn mobilenet_v1_separable_blocks_match_pytorch() {
    check_block("mobilenetv1_dw_separable_s1", 1e-5, |b, x, w| {
        mobilenet_v1::depthwise_separable(b, "", x, channels(w, "conv_pw.weight"), 1)
    });
    check_block("mobilenetv1_dw_separable_s2", 1e-5, |b, x, w| {
        mobilenet_v1::depthwise_separable(b, "", x, channels(w, "conv_pw.weight"), 2)
    });
}

/// (file name in `LINEAGE_PARITY_DIR`, model): random reference weights with non-degenerate BN
/// statistics, 224x224 input (299x299 for the Inceptions) and the reference's logits. zfnet is
/// pytorchcv's model; alexnet_original and alexnet_grouped make_fixtures.py's PaperAlexNet.
const NETS: [(&str, &str); 11] = [
    ("alexnet", "alexnet"),
    ("vgg16", "vgg16"),
    ("googlenet", "googlenet"),
    ("inception_v3", "inception_v3"),
    ("inception_v4", "inception_v4"),
    ("resnext50_32x4d", "resnext50_32x4d"),
    ("densenet121", "densenet121"),
    ("mobilenetv1_100", "mobilenet_v1"),
    ("zfnet", "zfnet"),
    ("alexnet_original", "alexnet_original"),
    ("alexnet_grouped", "alexnet_grouped"),
];

#[test]
fn whole_case_study_networks_match_pytorch_when_fixtures_are_given() {
    whole_networks_match(&NETS);
}
