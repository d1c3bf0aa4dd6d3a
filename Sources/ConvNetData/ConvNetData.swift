// ConvNetData: images in, tensors out.
//
// Dataset loaders (IDX for MNIST and Fashion-MNIST, CIFAR-10 batches, folders of images, HDF5 image
// sets such as SIGNS), PNG and JPEG codecs (libpng, libjpeg through CImageShims), gzip (zlib), tar,
// resizing and colour conversion, augmentation, the prefetching pipeline, and downloads with
// checksums. Depends on ConvNetCore (tensors, the `Dataset` protocol) and ConvNetFiles (HDF5 sets).
