//! Preprocessing helpers: torchvision's crop placement, layout and normalization, resampling
//! invariants, and errors that name the values.

use lineage_nets::preprocess::{
    center_crop, normalize_nchw, preprocess, resize_and_crop, resize_shorter_side, Filter, Preset, Rgb8,
    IMAGENET_MEAN, IMAGENET_STD,
};

/// A `w`x`h` image whose pixel (x, y) is (x, y, 7).
fn coordinates(w: usize, h: usize) -> Rgb8 {
    let data = (0..h).flat_map(|y| (0..w).flat_map(move |x| [x as u8, y as u8, 7])).collect();
    Rgb8::new(w, h, data).unwrap()
}

#[test]
fn centre_crop_offsets_round_half_to_even() {
    // torchvision: left = int(round((w - size) / 2.0)); round(2.5) = 2, round(3.5) = 4.
    for (w, h, size, left, top) in [(7, 6, 2, 2, 2), (9, 4, 2, 4, 1), (8, 8, 8, 0, 0), (5, 12, 3, 1, 4)] {
        let c = center_crop(&coordinates(w, h), size).unwrap();
        assert_eq!((c.width(), c.height()), (size, size));
        assert_eq!(&c.data()[..3], &[left as u8, top as u8, 7], "{w}x{h} crop {size}");
        let last = &c.data()[c.data().len() - 3..];
        assert_eq!(last, &[(left + size - 1) as u8, (top + size - 1) as u8, 7]);
    }
}

#[test]
fn resizing_keeps_constant_images_constant_and_same_size_is_a_copy() {
    let flat = Rgb8::new(9, 5, [10u8, 128, 250].repeat(45)).unwrap();
    for filter in [Filter::Bilinear, Filter::Bicubic] {
        for size in [2, 3, 5, 17, 64] {
            let r = resize_shorter_side(&flat, size, filter).unwrap();
            assert_eq!(r.height(), size);
            assert_eq!(r.width(), 9 * size / 5);
            assert!(r.data().chunks_exact(3).all(|p| p == [10, 128, 250]), "{filter:?} to {size}");
        }
        let img = coordinates(9, 5);
        assert_eq!(resize_shorter_side(&img, 5, filter).unwrap(), img);
    }
}

#[test]
fn normalize_writes_planes_of_scaled_values() {
    let img = Rgb8::new(2, 1, vec![255, 0, 51, 0, 255, 102]).unwrap();
    let x = normalize_nchw(&img, [0.5; 3], [0.5; 3]).unwrap();
    let want = [1.0, -1.0, -1.0, 1.0, 51.0 / 255.0 * 2.0 - 1.0, 102.0 / 255.0 * 2.0 - 1.0];
    for (a, b) in x.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{x:?}");
    }
    let preset =
        Preset { resize: 4, crop: 3, filter: Filter::Bilinear, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    assert_eq!(preprocess(&coordinates(8, 6), &preset).unwrap().len(), 3 * 3 * 3);
}

#[test]
fn bad_inputs_are_errors_naming_the_values() {
    let expect = |r: Result<_, lineage_nets::NetError>, parts: &[&str]| {
        let e = r.map(|_: ()| ()).unwrap_err().to_string();
        for p in parts {
            assert!(e.contains(p), "{e:?} lacks {p:?}");
        }
    };
    expect(Rgb8::new(4, 3, vec![0; 35]).map(drop), &["4x3", "35"]);
    expect(Rgb8::new(0, 3, vec![]).map(drop), &["0x3"]);
    let img = coordinates(6, 4);
    expect(center_crop(&img, 5).map(drop), &["5x5", "6x4"]);
    expect(center_crop(&img, 0).map(drop), &["0x0"]);
    expect(resize_shorter_side(&img, 0, Filter::Bilinear).map(drop), &["6x4", "0"]);
    let mut std = IMAGENET_STD;
    std[1] = 0.0;
    expect(normalize_nchw(&img, IMAGENET_MEAN, std).map(drop), &["channel 1", "std 0"]);
    std[1] = f32::NAN;
    expect(normalize_nchw(&img, IMAGENET_MEAN, std).map(drop), &["channel 1", "NaN"]);
    let preset =
        Preset { resize: 4, crop: 5, filter: Filter::Bicubic, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    expect(preprocess(&img, &preset).map(drop), &["5", "4"]);
    expect(lineage_nets::preprocess::preset("resnet51").map(drop), &["resnet51"]);
}

#[test]
fn every_model_has_the_preset_of_its_reference() {
    // torchvision's transforms of the weights' docs; timm's pretrained_cfg (resize =
    // floor(crop / crop_pct), crop_pct 0.875, bicubic, mean = std = 0.5) for inception_v4 and
    // mobilenetv1_100.
    let imagenet = |resize, crop| Preset {
        resize,
        crop,
        filter: Filter::Bilinear,
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
    };
    let timm = |resize, crop| Preset { resize, crop, filter: Filter::Bicubic, mean: [0.5; 3], std: [0.5; 3] };
    for name in lineage_nets::models::MODELS {
        let want = match name {
            "inception_v3" => imagenet(342, 299),
            "inception_v4" => timm(341, 299),
            "mobilenet_v1" => timm(256, 224),
            _ => imagenet(256, 224),
        };
        assert_eq!(lineage_nets::preprocess::preset(name).unwrap(), want, "{name}");
    }
}

/// An image whose every byte differs from its neighbours', so a shifted window shows.
fn noise(w: usize, h: usize) -> Rgb8 {
    let data = (0..w * h * 3).map(|i| ((i * 2654435761) >> 7) as u8).collect();
    Rgb8::new(w, h, data).unwrap()
}

#[test]
fn cropping_while_resizing_gives_the_bytes_of_resizing_then_cropping() {
    // Shrinking and growing, either side the shorter, odd spare pixels, and a side already at
    // the target size (that pass is a plain window).
    for (w, h, size, crop) in
        [(37, 23, 16, 13), (23, 37, 16, 15), (9, 7, 20, 17), (16, 40, 16, 11), (300, 5, 8, 8)]
    {
        for filter in [Filter::Bilinear, Filter::Bicubic] {
            let img = noise(w, h);
            let whole = center_crop(&resize_shorter_side(&img, size, filter).unwrap(), crop).unwrap();
            let fast = resize_and_crop(&img, size, crop, filter).unwrap();
            assert_eq!(fast, whole, "{w}x{h} -> shorter side {size}, crop {crop}, {filter:?}");
        }
    }
    // The 84-byte 4000x1 strip of the issue: only the 224x224 crop of its 1,024,000x256 resize.
    let strip = noise(4000, 1);
    let preset = lineage_nets::preprocess::preset("resnet18").unwrap();
    assert_eq!(preprocess(&strip, &preset).unwrap().len(), 3 * 224 * 224);
    let e = resize_and_crop(&noise(6, 4), 4, 5, Filter::Bilinear).unwrap_err().to_string();
    assert!(e.contains("5x5") && e.contains("6x4") && e.contains("6x4 image resized to 6x4"), "{e}");
}
