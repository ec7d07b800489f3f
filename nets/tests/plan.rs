//! The planned engine against the naive f64 interpreter, on networks that exercise every
//! planner path: conv+BN+act, residual fusion, unfused adds, zero-copy concat (and its copy
//! fallback), pooling variants, LRN, flatten, linear, softmax, batch > 1, both input layouts.

mod common;

use common::{forward, random_input, random_weights, relative_error, T64};
use lineage_kernels::{Activation, Padding, Shape};
use lineage_nets::{models, ConvSpec, Input, LrnSpec, Net, NetBuilder, Plan, PoolSpec, Threads, Workspace};

/// Everything but depthwise convolutions, in a dozen layers.
fn mixed_net() -> Net {
    let relu = Activation::Relu;
    let (mut b, x) = NetBuilder::new("mixed", 3).unwrap();
    let y = b.conv_bn("stem", "stem_bn", x, ConvSpec::new(8, 3, 2, 1), relu).unwrap();
    let pool = PoolSpec { ceil_mode: true, ..PoolSpec::square(3, 2, 1) };
    let y = b.max_pool("pool", y, pool).unwrap();
    // Inception-style branches joined by concat; branch c is the block input itself (a copy).
    let a = b.conv("a", y, ConvSpec::new(4, 1, 1, 0).with_bias(), relu).unwrap();
    let bb = b.conv_bn("b1", "b1_bn", y, ConvSpec::new(6, 3, 1, 1), Activation::Relu6).unwrap();
    let bb = b
        .conv(
            "b2",
            bb,
            ConvSpec { pad: Padding { top: 0, left: 1, bottom: 2, right: 1 }, ..ConvSpec::new(5, 3, 1, 0) },
            Activation::None,
        )
        .unwrap();
    let avg = PoolSpec { count_include_pad: false, ..PoolSpec::square(3, 1, 1) };
    let c = b.avg_pool("c", y, avg).unwrap();
    let cat = b.concat("cat", &[a, bb, c, y]).unwrap();
    // A basic residual block with downsample: both adds fuse into convolutions.
    let r = lineage_nets::models::resnet::residual_block(
        &mut b,
        "res.",
        cat,
        lineage_nets::models::resnet::Block::Basic,
        12,
        2,
    )
    .unwrap();
    // An add of two activated values cannot fuse.
    let p = b.conv("p", r, ConvSpec::new(12, 1, 1, 0), relu).unwrap();
    let q = b.activation("q", r, Activation::Relu6).unwrap();
    let s = b.add("pq", p, q, Activation::None).unwrap();
    let s = b.batch_norm("bn", s, relu).unwrap();
    let s = b.lrn("lrn", s, LrnSpec { size: 3, alpha: 1e-2, beta: 0.75, k: 1.0 }).unwrap();
    let s = b.adaptive_avg_pool("adapt", s, 2, 2).unwrap();
    let s = b.flatten("flat", s).unwrap();
    let s = b.linear("fc", s, 48, 10, true).unwrap();
    let s = b.softmax("prob", s).unwrap();
    b.finish(s).unwrap()
}

fn nchw(x: &[f32], s: Shape) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for n in 0..s.n {
        for y in 0..s.h {
            for xx in 0..s.w {
                for c in 0..s.c {
                    out[((n * s.c + c) * s.h + y) * s.w + xx] = x[((n * s.h + y) * s.w + xx) * s.c + c];
                }
            }
        }
    }
    out
}

fn check_against_reference(net: &Net, input: Shape, tolerance: f64) {
    let weights = random_weights(net, 11);
    let x = random_input(input, 5);
    let expected = forward(net, &weights, &T64 { shape: input, data: x.iter().map(|&v| v as f64).collect() });
    let expected = &expected[net.output().index()];
    let plan = Plan::new(net, &weights, input).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nhwc(&x), &mut ws).unwrap();
    assert_eq!(y.shape(), expected.shape);
    let got: Vec<f32> = (0..y.shape().pixels().unwrap()).flat_map(|p| y.pixel(p).to_vec()).collect();
    let err = relative_error(&got, &expected.data);
    assert!(err < tolerance, "{}: max|engine - reference| / max|reference| = {err:e}", net.name());
    // The same input in NCHW gives the same bits.
    let from_nchw: Vec<f32> = {
        let y = plan.run(Input::Nchw(&nchw(&x, input)), &mut ws).unwrap();
        (0..y.shape().pixels().unwrap()).flat_map(|p| y.pixel(p).to_vec()).collect()
    };
    assert_eq!(got, from_nchw);
}

#[test]
fn mixed_net_matches_the_reference() {
    check_against_reference(&mixed_net(), Shape::new(2, 19, 17, 3), 1e-5);
}

#[test]
fn resnet18_matches_the_reference() {
    // Logits of a deep net: the error is relative to the largest logit.
    check_against_reference(&models::by_name("resnet18").unwrap(), Shape::new(1, 64, 64, 3), 1e-4);
}

#[test]
fn resnet50_plan_fuses_every_residual_add_and_reuses_memory() {
    let net = models::by_name("resnet50").unwrap();
    let weights = lineage_nets::Weights::random(&net, 1);
    let plan = Plan::new(&net, &weights, Shape::new(1, 224, 224, 3)).unwrap();
    let steps = plan.steps();
    // 16 blocks: every add is a conv epilogue; the steps are 53 convs, maxpool, pool, fc.
    assert_eq!(steps.iter().filter(|s| s.kind == "conv+add").count(), 16);
    assert_eq!(steps.iter().filter(|s| s.kind == "add").count(), 0);
    assert_eq!(steps.len(), 53 + 3 - 16 + 16);
    // Largest activation: 112x112x64 (conv1) or 56x56x256; three of those live at once at
    // most (9.6 MB), so the arena stays far below the sum of all activations (~40 MB). It also
    // holds the largest convolution scratch: Winograd's 16 slots, up to 6.3 MB where the
    // 64-channel 56x56 layers take F(2x2) (Zen 4's rules).
    let mb = plan.arena_bytes() as f64 / 1e6;
    assert!(mb < 16.0, "arena {mb} MB");
    assert!(plan.packed_weight_bytes() >= 25_000_000 * 4);
    assert_eq!(plan.output_shape(), Shape::new(1, 1, 1, 1000));
}

#[test]
fn concat_inputs_are_written_in_place() {
    let net = mixed_net();
    let plan = Plan::new(&net, &random_weights(&net, 1), Shape::new(1, 19, 17, 3)).unwrap();
    let copies: Vec<String> = plan.steps().into_iter().filter(|s| s.kind == "copy").map(|s| s.name).collect();
    // Only the block input (also read by the branches) is copied; a, b2 and c write in place.
    assert_eq!(copies, vec!["cat[pool]".to_string()]);
}

/// Three inverted residual blocks whose depthwise inputs exceed 1 MiB, so the planner runs
/// each as one band chain: without expansion, with expansion and residual, at stride 2; odd
/// sizes leave partial bands and bands that need the bottom padding.
fn banded_net() -> Net {
    use lineage_nets::models::mobilenet::inverted_residual;
    let (mut b, x) = NetBuilder::new("banded", 200).unwrap();
    let y = inverted_residual(&mut b, "c.", x, 16, 1, 1).unwrap();
    let y = inverted_residual(&mut b, "a.", y, 16, 1, 12).unwrap();
    let y = inverted_residual(&mut b, "b.", y, 24, 2, 12).unwrap();
    b.finish(y).unwrap()
}

#[test]
fn band_chains_match_the_reference_on_any_thread_count() {
    let net = banded_net();
    let input = Shape::new(1, 41, 37, 200);
    let weights = random_weights(&net, 7);
    let plan = Plan::new(&net, &weights, input).unwrap();
    let kinds: Vec<&str> = plan.steps().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["conv-band", "conv-band+add", "conv-band"]);
    let x = random_input(input, 3);
    let expected =
        forward(&net, &weights, &T64 { shape: input, data: x.iter().map(|&v| v as f64).collect() });
    let expected = &expected[net.output().index()];
    let mut first: Option<Vec<f32>> = None;
    for threads in [1, 2, 3] {
        let mut ws = Workspace::new(&plan, Threads::Count(threads)).unwrap();
        let y = plan.run(Input::Nhwc(&x), &mut ws).unwrap();
        assert_eq!(y.shape(), expected.shape);
        let got: Vec<f32> = (0..y.shape().pixels().unwrap()).flat_map(|p| y.pixel(p).to_vec()).collect();
        let err = relative_error(&got, &expected.data);
        assert!(err < 1e-5, "{threads} threads: max|engine - reference| / max|reference| = {err:e}");
        match &first {
            Some(f) => assert!(f == &got, "{threads} threads differ bitwise from 1 thread"),
            None => first = Some(got),
        }
    }
}

/// Two DenseNet blocks joined by a transition, in torchvision's structure at small sizes.
fn dense_net() -> Net {
    use lineage_nets::models::densenet::{dense_block, transition};
    let (mut b, x) = NetBuilder::new("dense", 3).unwrap();
    let y = b.conv("stem", x, ConvSpec::new(8, 3, 1, 1), Activation::Relu).unwrap();
    let y = dense_block(&mut b, "block1.", y, 3, 4, 2).unwrap();
    let y = transition(&mut b, "trans1.", y, 10).unwrap();
    let y = dense_block(&mut b, "block2.", y, 2, 4, 2).unwrap();
    let y = b.global_avg_pool("gap", y).unwrap();
    let y = b.flatten("flat", y).unwrap();
    let y = b.linear("fc", y, 18, 5, true).unwrap();
    b.finish(y).unwrap()
}

#[test]
fn dense_blocks_concatenate_in_place() {
    let net = dense_net();
    check_against_reference(&net, Shape::new(2, 9, 8, 3), 1e-5);
    // Every cat of a block is a prefix view of the block's last one: nothing is copied.
    let plan = Plan::new(&net, &random_weights(&net, 1), Shape::new(2, 9, 8, 3)).unwrap();
    assert!(plan.steps().iter().all(|s| s.kind != "copy"));
    for name in ["densenet121", "densenet161"] {
        let net = models::by_name(name).unwrap();
        let plan =
            Plan::new(&net, &lineage_nets::Weights::random(&net, 1), Shape::new(1, 64, 64, 3)).unwrap();
        let copies = plan.steps().iter().filter(|s| s.kind == "copy").count();
        assert_eq!(copies, 0, "{name}: {copies} copies");
    }
}

#[test]
fn bad_inputs_and_weights_are_errors() {
    let net = models::by_name("resnet18").unwrap();
    let mut weights = lineage_nets::Weights::random(&net, 1);
    let plan = Plan::new(&net, &weights, Shape::new(1, 32, 32, 3)).unwrap();
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let err = plan.run(Input::Nchw(&[0.0; 10]), &mut ws).unwrap_err().to_string();
    assert!(err.contains("10 floats") && err.contains("3072"), "{err}");
    let small = Plan::new(&net, &weights, Shape::new(1, 16, 16, 3)).unwrap();
    let mut small_ws = Workspace::new(&small, Threads::Count(1)).unwrap();
    let err = plan.run(Input::Nchw(&[0.0; 3072]), &mut small_ws).unwrap_err().to_string();
    assert!(err.contains("too small"), "{err}");
    assert!(Workspace::new(&plan, Threads::Count(0)).is_err());
    weights
        .insert("layer2.0.bn1.running_var", lineage_nets::Tensor { shape: vec![127], data: vec![1.0; 127] });
    let err = Plan::new(&net, &weights, Shape::new(1, 32, 32, 3)).unwrap_err().to_string();
    assert!(
        err.contains("layer2.0.bn1.running_var") && err.contains("[127]") && err.contains("[128]"),
        "{err}"
    );
}

#[test]
fn plan_is_send_and_sync_and_runs_from_several_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Plan>();
    let net = models::by_name("resnet18").unwrap();
    let plan = Plan::new(&net, &lineage_nets::Weights::random(&net, 2), Shape::new(1, 32, 32, 3)).unwrap();
    let x = random_input(Shape::new(1, 32, 32, 3), 9);
    let run = |plan: &Plan| {
        let mut ws = Workspace::new(plan, Threads::Count(1)).unwrap();
        plan.run(Input::Nchw(&x), &mut ws).unwrap().data()[..1000].to_vec()
    };
    let alone = run(&plan);
    let together: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| run(&plan))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in together {
        assert_eq!(t, alone);
    }
}

#[test]
fn profiled_run_gives_the_same_output_and_times_every_step() {
    let net = models::by_name("resnet18").unwrap();
    let plan = Plan::new(&net, &lineage_nets::Weights::random(&net, 4), Shape::new(1, 32, 32, 3)).unwrap();
    let x = random_input(Shape::new(1, 32, 32, 3), 3);
    let mut ws = Workspace::new(&plan, Threads::Count(1)).unwrap();
    let plain = plan.run(Input::Nchw(&x), &mut ws).unwrap().data()[..1000].to_vec();
    let mut seconds = vec![0.0; plan.steps().len()];
    let timed = plan.run_profiled(Input::Nchw(&x), &mut ws, &mut seconds).unwrap().data()[..1000].to_vec();
    assert_eq!(plain, timed);
    assert!(seconds.iter().all(|&t| t > 0.0));
    assert!(plan.run_profiled(Input::Nchw(&x), &mut ws, &mut [0.0; 3]).is_err());
}

#[test]
fn workspaces_can_share_the_callers_pool() {
    let net = models::by_name("resnet18").unwrap();
    let plan = Plan::new(&net, &lineage_nets::Weights::random(&net, 5), Shape::new(1, 32, 32, 3)).unwrap();
    let x = random_input(Shape::new(1, 32, 32, 3), 4);
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap());
    let mut a = Workspace::new(&plan, Threads::Pool(pool.clone())).unwrap();
    let mut b = Workspace::new(&plan, Threads::Pool(pool)).unwrap();
    assert_eq!(a.threads(), 2);
    let ya = plan.run(Input::Nchw(&x), &mut a).unwrap().data()[..1000].to_vec();
    let yb = plan.run(Input::Nchw(&x), &mut b).unwrap().data()[..1000].to_vec();
    let mut own = Workspace::new(&plan, Threads::Count(1)).unwrap();
    assert_eq!(ya, yb);
    assert_eq!(ya, plan.run(Input::Nchw(&x), &mut own).unwrap().data()[..1000].to_vec());
}

#[test]
fn an_absurd_input_size_is_an_error_not_an_abort() {
    let (mut b, x) = NetBuilder::new("wide", 3).unwrap();
    let y = b.conv("c", x, ConvSpec::new(64, 1, 1, 0), Activation::None).unwrap();
    let net = b.finish(y).unwrap();
    // 2^22 x 2^22 pixels: the arena would need 2^52 floats.
    let shape = Shape::new(1, 1 << 22, 1 << 22, 3);
    let weights = random_weights(&net, 1);
    let err = Plan::new(&net, &weights, shape).unwrap_err().to_string();
    assert!(err.contains("max_arena_bytes"), "{err}");
    // With the planning limit lifted, the workspace's allocation fails as an error.
    let unlimited = lineage_nets::PlanOptions { max_arena_bytes: usize::MAX, ..Default::default() };
    let plan = Plan::with_options(&net, &weights, shape, &unlimited).unwrap();
    let err = Workspace::new(&plan, Threads::Count(1)).unwrap_err().to_string();
    assert!(err.contains("cannot allocate"), "{err}");
}

#[test]
fn planning_from_owned_weights_gives_the_same_plan() {
    let net = mixed_net();
    let weights = random_weights(&net, 8);
    let input = Shape::new(1, 19, 17, 3);
    let x = random_input(input, 6);
    let borrowed = Plan::new(&net, &weights, input).unwrap();
    let owned = Plan::from_weights(&net, weights.clone(), input).unwrap();
    let run = |plan: &Plan| {
        let mut ws = Workspace::new(plan, Threads::Count(1)).unwrap();
        plan.run(Input::Nhwc(&x), &mut ws).unwrap().data()[..10].to_vec()
    };
    assert_eq!(run(&borrowed), run(&owned));
    let mut missing = weights;
    missing.take("b1_bn.running_mean");
    let err = Plan::from_weights(&net, missing, input).unwrap_err().to_string();
    assert!(err.contains("b1_bn.running_mean"), "{err}");
}
