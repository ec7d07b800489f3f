//! The families of the case study: year, what each introduced, its default model and the input
//! size it was designed for (the nets crate has no per-model size; Inception v3/v4 need 299,
//! Inception v2 224).

/// One family of the case study.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    pub year: u16,
    /// What the family introduced, in one line.
    pub introduced: &'static str,
    /// The model `zoo` runs when no `--models` are given.
    pub default_model: &'static str,
    /// Prefix of every model name of the family (`resnet` matches `resnet18` ... `resnet152`).
    prefix: &'static str,
    /// Height = width of the input the family was trained on.
    pub input_size: usize,
}

const fn family(
    name: &'static str,
    year: u16,
    introduced: &'static str,
    default_model: &'static str,
    prefix: &'static str,
    input_size: usize,
) -> Family {
    Family { name, year, introduced, default_model, prefix, input_size }
}

/// In the case study's order.
pub const FAMILIES: [Family; 12] = [
    family("AlexNet", 2012, "ReLU, dropout", "alexnet_original", "alexnet", 224),
    family("ZFNet", 2013, "smaller first kernel (7x7/2)", "zfnet", "zfnet", 224),
    family("VGG", 2014, "stacked 3x3", "vgg16", "vgg", 224),
    family("GoogLeNet", 2014, "multi-branch with 1x1 bottlenecks", "googlenet", "googlenet", 224),
    family("ResNet", 2015, "residual connections", "resnet50", "resnet", 224),
    family("Inception v2", 2015, "batch norm, 5x5 as two 3x3", "inception_v2", "inception_v2", 224),
    family("Inception v3", 2015, "factorized convolutions (1xn, nx1)", "inception_v3", "inception_v3", 299),
    family("Inception v4", 2016, "factorized, uniform Inception blocks", "inception_v4", "inception_v4", 299),
    family("ResNeXt", 2016, "grouped cardinality", "resnext50_32x4d", "resnext", 224),
    family("DenseNet", 2016, "dense connectivity", "densenet121", "densenet", 224),
    family("MobileNet v1", 2017, "depthwise separable", "mobilenet_v1", "mobilenet_v1", 224),
    family(
        "MobileNet v2",
        2018,
        "depthwise separable, inverted residuals",
        "mobilenet_v2",
        "mobilenet_v2",
        224,
    ),
];

/// The family of `model` (any name of `lineage_nets::models::MODELS`).
pub fn family_of(model: &str) -> Option<&'static Family> {
    // ResNeXt is listed after ResNet in the case study but `resnet` is not a prefix of
    // `resnext`, so the first match is the right one.
    FAMILIES.iter().find(|f| model.starts_with(f.prefix))
}

/// The default model of every family, in order.
pub fn default_models() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.default_model).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_model_has_a_family_and_every_default_is_known() {
        for model in lineage_nets::models::MODELS {
            assert!(family_of(model).is_some(), "{model} has no family");
        }
        for f in &FAMILIES {
            assert!(lineage_nets::models::MODELS.contains(&f.default_model), "{}", f.default_model);
            assert_eq!(family_of(f.default_model), Some(f));
        }
        assert_eq!(family_of("resnext101_32x8d").unwrap().name, "ResNeXt");
        assert_eq!(family_of("resnet18").unwrap().name, "ResNet");
        assert_eq!(family_of("inception_v4").unwrap().input_size, 299);
        assert_eq!(family_of("inception_v2").unwrap().input_size, 224);
        assert!(family_of("lenet").is_none());
    }
}
