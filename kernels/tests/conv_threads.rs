//! Results are bitwise identical for any thread count: work is split into a fixed number of
//! tasks and each output value is computed by one task in a fixed order.

use lineage_kernels::testing::{conv_problems, ConvSpace};
use lineage_kernels::{Algorithm, Conv2d, Isa};
use proptest::prelude::*;

proptest! {
    #![proptest_config(lineage_kernels::testing::proptest_config(lineage_kernels::testing::CASES))]

    #[test]
    fn direct_is_bitwise_identical_for_1_2_3_threads(problem in conv_problems(ConvSpace {
        c_in_per_group: 1..=200, c_out_per_group: 1..=100, hw: 8..=30, ..ConvSpace::default()
    })) {
        for isa in Isa::test_targets() {
            let conv = Conv2d::with(isa, Algorithm::Direct, &problem.params, &problem.data().unwrap().weights,
                problem.data().unwrap().bias.as_deref()).unwrap();
            let outputs: Vec<Vec<f32>> = [1, 2, 3].iter().map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut data = problem.data().unwrap();
                pool.install(|| problem.run(&mut data, |x, _, _, y, e| conv.run_alloc(x, y, e))).unwrap()
            }).collect();
            let bits = |v: &Vec<f32>| v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
            prop_assert_eq!(bits(&outputs[0]), bits(&outputs[1]));
            prop_assert_eq!(bits(&outputs[0]), bits(&outputs[2]));
        }
    }
}
