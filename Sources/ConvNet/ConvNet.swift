// ConvNet: the whole library in one import.
//
// `import ConvNet` brings every part; a package that wants less depends on the part's product:
//   ConvNetCore          tensors, ops, autodiff, layers, models, training, the model zoo (no C libraries)
//   ConvNetData          datasets, PNG/JPEG codecs, augmentation, downloads (zlib, libpng, libjpeg)
//   ConvNetFiles         HDF5, Keras model and weight files, training checkpoints (libhdf5)
//   ConvNetVisualization filters, feature maps, saliency, plots (PNG and SVG output)
@_exported import ConvNetCore
@_exported import ConvNetData
@_exported import ConvNetFiles
@_exported import ConvNetVisualization
