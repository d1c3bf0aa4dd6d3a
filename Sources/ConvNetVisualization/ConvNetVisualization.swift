// ConvNetVisualization: pictures of what a network sees and how it learns.
//
// Classic filters through `conv2d`, grids of kernels and feature maps, saliency maps, confusion
// matrices, and line plots of training curves, drawn on a small raster canvas (written as PNG
// through ConvNetData's codec) or as SVG. Depends on ConvNetCore and ConvNetData.
