//! The 1000 ImageNet-1k class names, in class-index order, as torchvision lists them
//! (`torchvision.models._meta._IMAGENET_CATEGORIES`; one name per line in imagenet_classes.txt).

const NAMES: &str = include_str!("imagenet_classes.txt");

/// Number of ImageNet-1k classes.
pub const IMAGENET_CLASSES: usize = 1000;

/// The name of ImageNet-1k class `index` (0 is "tench"), or `None` past the last class.
pub fn imagenet_class(index: usize) -> Option<&'static str> {
    NAMES.lines().nth(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousand_names_in_torchvision_order() {
        assert_eq!(NAMES.lines().count(), IMAGENET_CLASSES);
        assert!(NAMES.lines().all(|l| !l.is_empty() && l.trim() == l));
        // Indices checked against torchvision 0.29's _IMAGENET_CATEGORIES.
        assert_eq!(imagenet_class(0), Some("tench"));
        assert_eq!(imagenet_class(1), Some("goldfish"));
        assert_eq!(imagenet_class(207), Some("golden retriever"));
        assert_eq!(imagenet_class(954), Some("banana"));
        assert_eq!(imagenet_class(999), Some("toilet tissue"));
        assert_eq!(imagenet_class(1000), None);
    }
}
