//! How a checkpoint's tensor names meet a network's parameters: the complete list of what is
//! missing, unexpected or misshaped ([`Fit`]), so that one error shows everything to fix, with
//! the nearest known name beside each unexpected tensor (a `module.` prefix, a typo).

use std::collections::HashSet;
use std::fmt::Write;

use crate::error::NetError;
use crate::graph::Net;
use crate::weights::Weights;

/// Unexpected tensors listed with a nearest name; past this many the rest are only counted, so
/// that a checkpoint of a different architecture gives a readable error quickly.
const NEAREST_LIMIT: usize = 64;

/// How `weights` fit `net`, every problem at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fit {
    /// Parameters the network needs that the weights lack: (name, shape).
    pub missing: Vec<(String, Vec<usize>)>,
    /// Tensors the network does not use, sorted.
    pub unexpected: Vec<String>,
    /// Parameters present with another shape: (name, shape in the weights, shape expected).
    pub misshaped: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl Fit {
    pub fn of(weights: &Weights, net: &Net) -> Fit {
        let params = net.parameters();
        let mut fit = Fit::default();
        for p in &params {
            match weights.get(&p.name) {
                None => fit.missing.push((p.name.clone(), p.shape.clone())),
                Some(t) if t.shape != p.shape => {
                    fit.misshaped.push((p.name.clone(), t.shape.clone(), p.shape.clone()))
                }
                Some(_) => {}
            }
        }
        let wanted: HashSet<&str> = params.iter().map(|p| p.name.as_str()).collect();
        fit.unexpected = weights.names().filter(|n| !wanted.contains(n)).map(str::to_string).collect();
        fit.unexpected.sort();
        fit
    }

    /// Every parameter is present with its shape (and, if `strict`, nothing else is there).
    pub fn fits(&self, strict: bool) -> bool {
        self.missing.is_empty() && self.misshaped.is_empty() && (!strict || self.unexpected.is_empty())
    }

    /// One error listing every missing, misshaped and unexpected tensor of `weights` for `net`.
    pub fn error(&self, net: &Net, weights: &Weights) -> NetError {
        let mut m = format!(
            "{}: the weights do not fit: {} missing, {} with the wrong shape, {} unexpected",
            net.name(),
            self.missing.len(),
            self.misshaped.len(),
            self.unexpected.len()
        );
        for (name, shape) in &self.missing {
            let _ = write!(m, "\n  missing {name} {shape:?}");
        }
        for (name, got, want) in &self.misshaped {
            let _ = write!(m, "\n  wrong shape {name}: {got:?} in the weights, the layer expects {want:?}");
        }
        // Suggest among the names still missing (a renamed tensor's true name is one of them),
        // or among all parameters when nothing is missing.
        let candidates: Vec<String> = if self.missing.is_empty() {
            net.parameters().into_iter().map(|p| p.name).collect()
        } else {
            self.missing.iter().map(|(n, _)| n.clone()).collect()
        };
        let mut prefixes = HashSet::new();
        for name in self.unexpected.iter().take(NEAREST_LIMIT) {
            let shape = weights.get(name).map(|t| t.shape.clone()).unwrap_or_default();
            let _ = write!(m, "\n  unexpected {name} {shape:?}");
            if let Some(near) = nearest(name, &candidates) {
                let _ = write!(m, " (nearest known name: {near})");
                prefixes.insert(name.strip_suffix(near).unwrap_or(""));
            } else {
                prefixes.insert("");
            }
        }
        if self.unexpected.len() > NEAREST_LIMIT {
            let _ = write!(m, "\n  ... and {} more unexpected", self.unexpected.len() - NEAREST_LIMIT);
        }
        if let (1, Some(&prefix)) = (prefixes.len(), prefixes.iter().next()) {
            if !prefix.is_empty() {
                let _ = write!(
                    m,
                    "\n  each unexpected name listed is a known name under the prefix {prefix:?}: strip it"
                );
            }
        }
        NetError::Weights(m)
    }
}

/// The candidate closest to `name`: one that `name` ends with after a dotted prefix (to strip)
/// if any, otherwise the one at the smallest edit distance, if that is at most a third of
/// `name`'s length (a typo, not another layer).
pub fn nearest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let under_prefix = |c: &&String| name.strip_suffix(c.as_str()).is_some_and(|p| p.ends_with('.'));
    if let Some(c) = candidates.iter().filter(under_prefix).max_by_key(|c| c.len()) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| 3 * d <= name.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance over bytes (tensor names are ASCII module paths).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("fc.weight", "fc.weight"), 0);
        assert_eq!(edit_distance("fc.wieght", "fc.weight"), 2);
        assert_eq!(edit_distance("layer1.0.conv1", "layer1.0.conv"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_prefers_a_suffix_then_a_close_name_and_refuses_far_ones() {
        let c: Vec<String> = ["fc.weight", "fc.bias", "bn1.weight"].map(String::from).to_vec();
        assert_eq!(nearest("module.fc.weight", &c), Some("fc.weight"));
        assert_eq!(nearest("fc.baas", &c), Some("fc.bias"));
        assert_eq!(nearest("classifier.6.weight", &c), None);
    }
}
