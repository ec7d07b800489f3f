//! The convolution layers the kernels are measured on: real shapes from the classic nets,
//! NHWC batch 1. Later algorithms (depthwise, grouped, Winograd) append their layers here.

use lineage_kernels::{Conv2dParams, Padding, Shape};

/// One convolution of a real net: its parameters and the input it runs on.
#[derive(Clone, Copy, Debug)]
pub struct Layer {
    /// `net/kernel/channels@size`, e.g. `resnet50/3x3/64@56`.
    pub name: &'static str,
    pub params: Conv2dParams,
    pub input: Shape,
}

/// A dense `kh x kw` convolution with stride `stride`, on a square `hw x hw` input.
const fn conv(
    name: &'static str,
    (c_in, c_out): (usize, usize),
    (kh, kw): (usize, usize),
    stride: usize,
    pad: Padding,
    hw: usize,
) -> Layer {
    let params = Conv2dParams {
        c_in,
        c_out,
        kh,
        kw,
        stride_h: stride,
        stride_w: stride,
        pad,
        dilation_h: 1,
        dilation_w: 1,
        groups: 1,
    };
    Layer { name, params, input: Shape::new(1, hw, hw, c_in) }
}

/// A 3x3 pad-1 convolution of `c` channels in `groups` groups (groups = c: depthwise).
const fn grouped3x3(name: &'static str, c: usize, groups: usize, stride: usize, hw: usize) -> Layer {
    let mut layer = conv(name, (c, c), (3, 3), stride, SAME3, hw);
    layer.params.groups = groups;
    layer
}

/// A `k x k` stride-1 convolution padded to keep the size, in `groups` groups.
const fn grouped(name: &'static str, io: (usize, usize), k: usize, groups: usize, hw: usize) -> Layer {
    let mut layer = conv(name, io, (k, k), 1, Padding::uniform(k / 2), hw);
    layer.params.groups = groups;
    layer
}

const SAME3: Padding = Padding::uniform(1);
const NONE: Padding = Padding::uniform(0);

/// Every layer of the report and the benches, in report order.
pub const LAYERS: &[Layer] = &[
    // ResNet-50 3x3 stride 1 (the second conv of each bottleneck).
    conv("resnet50/3x3/64@56", (64, 64), (3, 3), 1, SAME3, 56),
    conv("resnet50/3x3/128@28", (128, 128), (3, 3), 1, SAME3, 28),
    conv("resnet50/3x3/256@14", (256, 256), (3, 3), 1, SAME3, 14),
    conv("resnet50/3x3/512@7", (512, 512), (3, 3), 1, SAME3, 7),
    // ResNet-50 1x1 reductions and expansions.
    conv("resnet50/1x1/256-64@56", (256, 64), (1, 1), 1, NONE, 56),
    conv("resnet50/1x1/64-256@56", (64, 256), (1, 1), 1, NONE, 56),
    conv("resnet50/1x1/1024-256@14", (1024, 256), (1, 1), 1, NONE, 14),
    conv("resnet50/1x1/2048-512@7", (2048, 512), (1, 1), 1, NONE, 7),
    // MobileNet v2 1x1 with short K: the first expansions and a projection.
    conv("mobilenet/1x1/16-96@112", (16, 96), (1, 1), 1, NONE, 112),
    conv("mobilenet/1x1/24-144@56", (24, 144), (1, 1), 1, NONE, 56),
    conv("mobilenet/1x1/144-24@56", (144, 24), (1, 1), 1, NONE, 56),
    // VGG16 3x3: the largest (conv1_2, 3.7 GFLOP) and a middle one (conv3_x).
    conv("vgg16/3x3/64@224", (64, 64), (3, 3), 1, SAME3, 224),
    conv("vgg16/3x3/256@56", (256, 256), (3, 3), 1, SAME3, 56),
    // Inception v3 factorized convolutions.
    conv("inception3/1x7/192@17", (192, 192), (1, 7), 1, Padding::symmetric(0, 3), 17),
    conv("inception3/7x1/192@17", (192, 192), (7, 1), 1, Padding::symmetric(3, 0), 17),
    conv("inception3/1x3/384@8", (384, 384), (1, 3), 1, Padding::symmetric(0, 1), 8),
    conv("inception3/3x1/384@8", (384, 384), (3, 1), 1, Padding::symmetric(1, 0), 8),
    // AlexNet conv1: large kernel, stride 4, only 3 input channels.
    conv("alexnet/11x11s4/3-96@224", (3, 96), (11, 11), 4, Padding::uniform(2), 224),
    // The image stems of ResNet-50 and MobileNet v2: 3 input channels, stride 2.
    conv("resnet50/7x7s2/3-64@224", (3, 64), (7, 7), 2, Padding::uniform(3), 224),
    conv("mobilenet/3x3s2/3-32@224", (3, 32), (3, 3), 2, SAME3, 224),
    // Depthwise 3x3 (MobileNet v1/v2), stride 1 and 2.
    grouped3x3("mobilenet/dw3x3/32@112", 32, 32, 1, 112),
    grouped3x3("mobilenet/dw3x3/144@56", 144, 144, 1, 56),
    grouped3x3("mobilenet/dw3x3/512@14", 512, 512, 1, 14),
    grouped3x3("mobilenet/dw3x3s2/64@112", 64, 64, 2, 112),
    grouped3x3("mobilenet/dw3x3s2/512@14", 512, 512, 2, 14),
    // Two whose input and output fit in a 512 KiB L2 (MobileNet v2's last blocks; the stride-2
    // depthwise of a band chain, whose input rows are in cache): the rows above stream from
    // memory on a machine with a small L3 share.
    grouped3x3("mobilenet/dw3x3/960@7", 960, 960, 1, 7),
    grouped3x3("mobilenet/dw3x3s2/96@28", 96, 96, 2, 28),
    // ResNeXt-50 32x4d grouped 3x3: 4, 8, 16 and 32 channels per group.
    grouped3x3("resnext50/g32x3x3/128@56", 128, 32, 1, 56),
    grouped3x3("resnext50/g32x3x3/256@28", 256, 32, 1, 28),
    grouped3x3("resnext50/g32x3x3/512@14", 512, 32, 1, 14),
    grouped3x3("resnext50/g32x3x3/1024@7", 1024, 32, 1, 7),
    // DenseNet-121's 3x3 growth layers (128 -> 32 channels) in blocks 1-4, and two of its 1x1
    // bottlenecks (concatenated features -> 128).
    conv("densenet121/3x3/128-32@56", (128, 32), (3, 3), 1, SAME3, 56),
    conv("densenet121/3x3/128-32@28", (128, 32), (3, 3), 1, SAME3, 28),
    conv("densenet121/3x3/128-32@14", (128, 32), (3, 3), 1, SAME3, 14),
    conv("densenet121/3x3/128-32@7", (128, 32), (3, 3), 1, SAME3, 7),
    conv("densenet121/1x1/256-128@56", (256, 128), (1, 1), 1, NONE, 56),
    conv("densenet121/1x1/1024-128@14", (1024, 128), (1, 1), 1, NONE, 14),
    // Inception v3's 3x3 stem at 299 (32 -> 32, 32 -> 64) and a 3x3 branch (96 -> 96 at 35),
    // GoogLeNet's narrowest 3x3 branch (96 -> 128 at 28): Winograd's transforms are shared by
    // fewer output channels than in ResNet.
    conv("inception3/3x3/32-32@147", (32, 32), (3, 3), 1, NONE, 149),
    conv("inception3/3x3/32-64@147", (32, 64), (3, 3), 1, SAME3, 147),
    conv("inception3/3x3/96-96@35", (96, 96), (3, 3), 1, SAME3, 35),
    conv("googlenet/3x3/96-128@28", (96, 128), (3, 3), 1, SAME3, 28),
    // AlexNet 2012's two towers (alexnet_grouped): conv2, conv4, conv5 in 2 groups of 128-192
    // output channels, and one tower's dense half of each (`grouped-vs-dense` compares them).
    grouped("alexnet/g2-5x5/96-256@27", (96, 256), 5, 2, 27),
    grouped("alexnet/g2-3x3/384-384@13", (384, 384), 3, 2, 13),
    grouped("alexnet/g2-3x3/384-256@13", (384, 256), 3, 2, 13),
    grouped("alexnet/5x5/48-128@27", (48, 128), 5, 1, 27),
    grouped("alexnet/3x3/192-192@13", (192, 192), 3, 1, 13),
    grouped("alexnet/3x3/192-128@13", (192, 128), 3, 1, 13),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_is_a_valid_convolution_with_a_unique_name() {
        for (i, layer) in LAYERS.iter().enumerate() {
            layer.params.output_shape(layer.input).unwrap_or_else(|e| panic!("{}: {e}", layer.name));
            assert!(LAYERS[..i].iter().all(|l| l.name != layer.name), "duplicate {}", layer.name);
        }
    }

    #[test]
    fn flop_counts_match_the_published_shapes() {
        // VGG16 conv1_2: 224*224 pixels * 64 * 64 * 9 MACs = 1.85 GMAC.
        let vgg = LAYERS.iter().find(|l| l.name == "vgg16/3x3/64@224").unwrap();
        assert_eq!(vgg.params.macs(vgg.input).unwrap(), 224 * 224 * 64 * 64 * 9);
        // AlexNet conv1: 55x55 output, 96 * 3 * 11 * 11 MACs per pixel (105 MMAC).
        let alex = LAYERS.iter().find(|l| l.name.starts_with("alexnet")).unwrap();
        assert_eq!(alex.params.output_shape(alex.input).unwrap(), Shape::new(1, 55, 55, 96));
        assert_eq!(alex.params.macs(alex.input).unwrap(), 55 * 55 * 96 * 3 * 121);
        // A depthwise 3x3 costs 9 MACs per output value; stride 2 halves each side.
        let dw = LAYERS.iter().find(|l| l.name == "mobilenet/dw3x3s2/64@112").unwrap();
        assert_eq!(dw.params.macs(dw.input).unwrap(), 56 * 56 * 64 * 9);
        // ResNeXt's grouped 3x3 with 4 channels per group: 4 * 9 MACs per output value.
        let g = LAYERS.iter().find(|l| l.name == "resnext50/g32x3x3/128@56").unwrap();
        assert_eq!(g.params.macs(g.input).unwrap(), 56 * 56 * 128 * 4 * 9);
    }
}
