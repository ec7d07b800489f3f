//! Weight files: loading, conversion and every kind of bad file as a clear error.

use std::collections::HashMap;

use lineage_kernels::Activation;
use lineage_nets::{ConvSpec, Net, NetBuilder, Weights};
use safetensors::tensor::TensorView;
use safetensors::{serialize, Dtype};

fn tiny() -> Net {
    let (mut b, x) = NetBuilder::new("tiny", 2).unwrap();
    let y = b.conv_bn("conv1", "bn1", x, ConvSpec::new(3, 3, 1, 1), Activation::Relu).unwrap();
    b.finish(y).unwrap()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A file holding `tensors` (name, dtype, shape, bytes).
fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta = HashMap::from([("block".to_string(), "tiny".to_string())]);
    serialize(views, Some(meta)).unwrap()
}

fn good_tensors() -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    let w: Vec<f32> = (0..54).map(|i| i as f32 * 0.5).collect();
    vec![
        ("conv1.weight", Dtype::F32, vec![3, 2, 3, 3], f32_bytes(&w)),
        ("bn1.weight", Dtype::F32, vec![3], f32_bytes(&[1.0, 2.0, 3.0])),
        ("bn1.bias", Dtype::F32, vec![3], f32_bytes(&[0.0; 3])),
        ("bn1.running_mean", Dtype::F32, vec![3], f32_bytes(&[0.0; 3])),
        ("bn1.running_var", Dtype::F32, vec![3], f32_bytes(&[1.0; 3])),
        ("bn1.num_batches_tracked", Dtype::I64, vec![], 7i64.to_le_bytes().to_vec()),
    ]
}

#[test]
fn loads_by_name_and_ignores_num_batches_tracked() {
    let w = Weights::from_safetensors(&file(&good_tensors())).unwrap();
    assert_eq!(w.check(&tiny(), true).unwrap(), Vec::<String>::new());
    assert_eq!(w.get("conv1.weight").unwrap().data[3], 1.5);
    assert_eq!(w.get("bn1.weight").unwrap().data, vec![1.0, 2.0, 3.0]);
    assert_eq!(w.metadata().get("block").map(String::as_str), Some("tiny"));
}

#[test]
fn converts_f16_and_bf16() {
    let mut t = good_tensors();
    // f16: 1.0 = 0x3c00, -2.0 = 0xc000, 2^-24 (smallest subnormal) = 0x0001; bf16 1.5 = 0x3fc0.
    let half: Vec<u8> = [0x3c00u16, 0xc000, 0x0001].iter().flat_map(|h| h.to_le_bytes()).collect();
    t[1] = ("bn1.weight", Dtype::F16, vec![3], half);
    let bf: Vec<u8> = [0x3fc0u16; 3].iter().flat_map(|h| h.to_le_bytes()).collect();
    t[2] = ("bn1.bias", Dtype::BF16, vec![3], bf);
    let w = Weights::from_safetensors(&file(&t)).unwrap();
    assert_eq!(w.get("bn1.weight").unwrap().data, vec![1.0, -2.0, 2f32.powi(-24)]);
    assert_eq!(w.get("bn1.bias").unwrap().data, vec![1.5; 3]);
}

#[test]
fn missing_wrong_shape_wrong_dtype_and_extra_are_errors_naming_the_tensor() {
    let mut t = good_tensors();
    t.remove(4);
    let err = Weights::from_safetensors(&file(&t)).unwrap().check(&tiny(), false).unwrap_err().to_string();
    assert!(err.contains("missing") && err.contains("bn1.running_var") && err.contains("[3]"), "{err}");

    let mut t = good_tensors();
    t[0] = ("conv1.weight", Dtype::F32, vec![3, 2, 9], f32_bytes(&[0.0; 54]));
    let err = Weights::from_safetensors(&file(&t)).unwrap().check(&tiny(), false).unwrap_err().to_string();
    assert!(
        err.contains("conv1.weight") && err.contains("[3, 2, 9]") && err.contains("[3, 2, 3, 3]"),
        "{err}"
    );

    let mut t = good_tensors();
    t[1] = ("bn1.weight", Dtype::I32, vec![3], vec![0; 12]);
    let err = Weights::from_safetensors(&file(&t)).unwrap_err().to_string();
    assert!(err.contains("bn1.weight") && err.contains("I32"), "{err}");

    let mut t = good_tensors();
    t.push(("fc.weight", Dtype::F32, vec![1], f32_bytes(&[0.0])));
    let w = Weights::from_safetensors(&file(&t)).unwrap();
    assert_eq!(w.check(&tiny(), false).unwrap(), vec!["fc.weight".to_string()]);
    let err = w.check(&tiny(), true).unwrap_err().to_string();
    assert!(err.contains("unexpected") && err.contains("fc.weight"), "{err}");
}

#[test]
fn truncated_corrupt_and_huge_header_files_are_errors() {
    let bytes = file(&good_tensors());
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = Weights::from_safetensors(&bytes[..cut]).unwrap_err().to_string();
        assert!(err.contains("safetensors"), "cut at {cut}: {err}");
    }
    let mut corrupt = bytes.clone();
    corrupt[8] = b'#';
    assert!(Weights::from_safetensors(&corrupt).is_err());
    // A header length of 2^60 bytes must be refused, not allocated.
    let mut huge = (1u64 << 60).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    let err = Weights::from_safetensors(&huge).unwrap_err().to_string();
    assert!(err.contains("safetensors"), "{err}");
    let err = Weights::load(std::path::Path::new("/nonexistent/w.safetensors")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/w.safetensors"), "{err}");
}

#[test]
fn random_weights_are_seeded_he_normal() {
    let net = lineage_nets::models::by_name("resnet18").unwrap();
    let a = Weights::random(&net, 7);
    assert_eq!(a, Weights::random(&net, 7));
    assert_ne!(a.get("conv1.weight"), Weights::random(&net, 8).get("conv1.weight"));
    a.check(&net, true).unwrap();
    // He-normal: std sqrt(2 / fan_in); layer4's 3x3 convs have fan_in 4608 and 2.4M samples.
    let w = &a.get("layer4.1.conv2.weight").unwrap().data;
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
    let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64;
    let expected = 2.0 / 4608.0;
    assert!(mean.abs() < 1e-4, "{mean}");
    assert!((var / expected - 1.0).abs() < 0.01, "variance {var} vs {expected}");
    assert_eq!(a.get("layer4.1.bn2.running_var").unwrap().data, vec![1.0; 512]);
}

#[test]
fn loading_a_file_streams_and_checks_it_like_a_buffer() {
    let dir = std::env::temp_dir().join(format!("lineage-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    let mut t = good_tensors();
    let half: Vec<u8> = [0x3c00u16, 0xc000, 0x0001].iter().flat_map(|h| h.to_le_bytes()).collect();
    t[1] = ("bn1.weight", Dtype::F16, vec![3], half);
    let bytes = file(&t);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(Weights::load(&path).unwrap(), Weights::from_safetensors(&bytes).unwrap());
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = Weights::load(&path).unwrap_err().to_string();
        assert!(err.contains("w.safetensors") && err.contains("safetensors file"), "cut at {cut}: {err}");
    }
    let mut huge = (1u64 << 60).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    std::fs::write(&path, &huge).unwrap();
    assert!(Weights::load(&path).unwrap_err().to_string().contains("header of 1152921504606846976 bytes"));
    let mut t = good_tensors();
    t[1] = ("bn1.weight", Dtype::I32, vec![3], vec![0; 12]);
    std::fs::write(&path, file(&t)).unwrap();
    let err = Weights::load(&path).unwrap_err().to_string();
    assert!(err.contains("bn1.weight") && err.contains("I32"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_error_lists_every_missing_misshaped_and_unexpected_tensor() {
    let mut t = good_tensors();
    t.remove(4); // bn1.running_var
    t.remove(3); // bn1.running_mean
    t[0] = ("conv1.weight", Dtype::F32, vec![3, 2, 9], f32_bytes(&[0.0; 54]));
    t.push(("bn1.runing_mean", Dtype::F32, vec![3], f32_bytes(&[0.0; 3])));
    t.push(("head.weight", Dtype::F32, vec![1], f32_bytes(&[0.0])));
    let err = Weights::from_safetensors(&file(&t)).unwrap().check(&tiny(), false).unwrap_err().to_string();
    for needle in [
        "tiny: the weights do not fit: 2 missing, 1 with the wrong shape, 2 unexpected",
        "missing bn1.running_mean [3]",
        "missing bn1.running_var [3]",
        "wrong shape conv1.weight: [3, 2, 9] in the weights, the layer expects [3, 2, 3, 3]",
        "unexpected bn1.runing_mean [3] (nearest known name: bn1.running_mean)",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    // Nothing known is near `head.weight`, and no prefix is suggested for a mixed lot.
    let head = err.lines().find(|l| l.contains("head.weight")).unwrap();
    assert_eq!(head.trim(), "unexpected head.weight [1]");
    assert!(!err.contains("prefix"), "{err}");
}

#[test]
fn rename_hook_and_prefix_stripping_map_a_checkpoint_onto_the_net() {
    let names: Vec<String> = good_tensors().iter().map(|t| format!("module.{}", t.0)).collect();
    let prefixed: Vec<_> =
        good_tensors().into_iter().zip(&names).map(|((_, d, s, b), n)| (n.as_str(), d, s, b)).collect();
    let mut w = Weights::from_safetensors(&file(&prefixed)).unwrap();
    let err = w.check(&tiny(), false).unwrap_err().to_string();
    assert!(err.contains("(nearest known name: conv1.weight)"), "{err}");
    assert!(err.contains("under the prefix \"module.\": strip it"), "{err}");
    assert_eq!(w.strip_prefix("module.").unwrap(), 5);
    assert_eq!(w.strip_prefix("module.").unwrap(), 0);
    assert_eq!(w.check(&tiny(), true).unwrap(), Vec::<String>::new());

    // A hook renaming a differently named export (Keras-like `conv1/kernel`) onto the net.
    let mut w = Weights::from_safetensors(&file(&good_tensors())).unwrap();
    w.rename(|n| n.replace('.', "/")).unwrap();
    assert!(w.get("bn1/running_var").is_some() && w.get("bn1.running_var").is_none());
    w.rename(|n| n.replace('/', ".")).unwrap();
    assert_eq!(w.check(&tiny(), true).unwrap(), Vec::<String>::new());

    // Two tensors mapped to one name: an error naming both, and the weights left as they were.
    let err = w.rename(|n| if n.starts_with("bn1.") { "bn1".to_string() } else { n.to_string() });
    let err = err.unwrap_err().to_string();
    assert!(err.contains("\"bn1.bias\" and \"bn1.running_mean\" are both renamed to \"bn1\""), "{err}");
    assert_eq!(w.check(&tiny(), true).unwrap(), Vec::<String>::new());
}
