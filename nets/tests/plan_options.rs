//! Plan options: every step runs on the ISA the options name (checked against the f64
//! interpreter on each ISA the machine has), an ISA the CPU lacks is an error, and exact mode
//! plans no Winograd convolution.

mod common;

use common::{forward, random_input, random_weights, relative_error, T64};
use lineage_kernels::{Isa, Shape};
use lineage_nets::{models, Input, Net, Plan, PlanOptions, Threads, Workspace};

fn run(plan: &Plan, x: &[f32]) -> Vec<f32> {
    let mut ws = Workspace::new(plan, Threads::Count(2)).unwrap();
    let y = plan.run(Input::Nhwc(x), &mut ws).unwrap();
    (0..y.shape().pixels().unwrap()).flat_map(|p| y.pixel(p).to_vec()).collect()
}

fn algorithms(plan: &Plan) -> Vec<&'static str> {
    plan.steps().iter().filter_map(|s| s.algorithm).collect()
}

/// Convolutions (Winograd, direct, pointwise), pooling, residual adds and a linear layer.
fn net() -> (Net, Shape) {
    (models::by_name("resnet18").unwrap(), Shape::new(1, 48, 40, 3))
}

#[test]
fn every_available_isa_plans_and_matches_the_reference() {
    let (net, input) = net();
    let weights = random_weights(&net, 3);
    let x = random_input(input, 4);
    let expected =
        forward(&net, &weights, &T64 { shape: input, data: x.iter().map(|&v| v as f64).collect() });
    let expected = &expected[net.output().index()].data;
    for isa in Isa::test_targets() {
        let options = PlanOptions { isa, ..PlanOptions::default() };
        let plan = Plan::with_options(&net, &weights, input, &options).unwrap();
        assert_eq!(plan.isa(), isa);
        let err = relative_error(&run(&plan, &x), expected);
        assert!(err < 1e-4, "{}: max|engine - reference| / max|reference| = {err:e}", isa.name());
    }
}

#[test]
fn an_isa_the_cpu_lacks_is_an_error_naming_it() {
    let (net, input) = net();
    let weights = random_weights(&net, 3);
    let missing = [Isa::Avx2, Isa::Avx512, Isa::Neon].into_iter().find(|i| !i.is_supported());
    let Some(isa) = missing else { return };
    let options = PlanOptions { isa, ..PlanOptions::default() };
    let err = Plan::with_options(&net, &weights, input, &options).unwrap_err().to_string();
    assert!(err.contains(isa.name()) && err.contains("not supported"), "{err}");
}

#[test]
fn exact_mode_plans_no_winograd_and_stays_close_to_the_default() {
    let net = models::by_name("vgg11").unwrap();
    let input = Shape::new(1, 64, 64, 3);
    let weights = random_weights(&net, 5);
    let default = Plan::new(&net, &weights, input).unwrap();
    let exact =
        Plan::with_options(&net, &weights, input, &PlanOptions { exact: true, ..PlanOptions::default() })
            .unwrap();
    let winograd = |p: &Plan| algorithms(p).iter().filter(|a| a.starts_with("winograd")).count();
    assert!(
        winograd(&default) > 0,
        "the default plan of vgg11 at 64x64 uses Winograd: {:?}",
        algorithms(&default)
    );
    assert_eq!(winograd(&exact), 0, "exact plan: {:?}", algorithms(&exact));
    let x = random_input(input, 6);
    let err =
        relative_error(&run(&exact, &x), &run(&default, &x).iter().map(|&v| v as f64).collect::<Vec<_>>());
    assert!(err < 1e-3, "exact vs default: {err:e}");
}

/// The per-group Winograd of alexnet_grouped's conv4 and conv5 is Winograd too: an exact plan
/// runs those layers with the grouped kernel instead.
#[test]
fn exact_mode_keeps_winograd_out_of_grouped_convolutions() {
    let net = models::by_name("alexnet_grouped").unwrap();
    let input = Shape::new(1, 224, 224, 3);
    let weights = random_weights(&net, 7);
    let default = Plan::new(&net, &weights, input).unwrap();
    let exact =
        Plan::with_options(&net, &weights, input, &PlanOptions { exact: true, ..PlanOptions::default() })
            .unwrap();
    let count = |p: &Plan, name: &str| algorithms(p).iter().filter(|a| a.contains(name)).count();
    assert_eq!(count(&default, "grouped-winograd"), 2, "default plan: {:?}", algorithms(&default));
    assert_eq!(count(&exact, "winograd"), 0, "exact plan: {:?}", algorithms(&exact));
    assert_eq!(count(&exact, "grouped"), 3, "exact plan: {:?}", algorithms(&exact));
}
