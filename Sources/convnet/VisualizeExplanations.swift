import ArgumentParser
import ConvNet
import Foundation

/// `visualize --grad-cam`, `--saliency` with `--smooth-grad` and `--top-patches`: why a model
/// predicts what it does (Grad-CAM, SmoothGrad) and what one of its feature maps responds to
/// (Zeiler & Fergus's top-activating patches, the lecture notes).
extension VisualizeCommand {
    /// Grad-CAM of one image: the input, the class-activation heat map and the overlay.
    func drawGradCAM(_ network: Model, image: VisualizationInputs.InputImage, classNames: [String]?) throws {
        let result = try GradCAM.compute(model: network, image: image.input, layer: gradCamLayer, classIndex: targetClass)
        let display = try image.display.converted(toChannels: image.display.shape[2] == 1 ? 1 : 3)
        let tiles = [display, try Saliency.heatMap(result.map), try Saliency.overlay(image: display, map: result.map, opacity: 0.6)]
        let name = classNames.flatMap { result.classIndex < $0.count ? $0[result.classIndex] : nil } ?? "class \(result.classIndex)"
        let probability = result.classIndex < result.scores.count ? result.scores[result.classIndex] : .nan
        let caption = String(format: "%@ (output %.3f), layer %@ %dx%d", name, probability, result.layerName,
                             result.coarseMap.shape[0], result.coarseMap.shape[1])
        let grid = try ImageGrid.make(tiles: tiles, columns: 3,
                                      scale: ImageGrid.upscaleFactor(size: max(display.shape[0], display.shape[1]), tileSize: 160),
                                      tileCaptions: ["input", "Grad-CAM", "overlay"], caption: "Grad-CAM for " + caption,
                                      style: ImageGrid.Style(separator: 2, separatorColor: .white))
        try write(grid, mode: "grad-cam", note: "explaining " + caption)
    }

    /// `LAYER:CHANNEL` of `--top-patches`.
    static func parseTopPatches(_ spec: String) throws -> (layer: String, channel: Int) {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let channel = Int(parts[1]), channel >= 0 else {
            throw ValidationError("--top-patches \(spec): expected LAYER:CHANNEL, e.g. conv2d:3")
        }
        return (String(parts[0]), channel)
    }

    /// The training images' patches that activate `LAYER:CHANNEL` most, strongest first, in a grid.
    func drawTopPatches(_ network: Model, spec: String, data: DatasetResolver.Splits, preprocessing: Preprocessing) throws {
        let (layer, channel) = try Self.parseTopPatches(spec)
        let images = data.train.images
        let patches = try TopActivations.find(model: network, inputs: preprocessing.apply(images), layer: layer, channel: channel,
                                              count: topCount, batchSize: batchSizeOption.value(default: 64))
        let size = data.train.imageShape.reduce(1, *)
        var tiles: [Tensor] = [], captions: [String] = []
        for patch in patches {
            let image = try Tensor(shape: data.train.imageShape,
                                   scalars: Array(images.scalars[patch.imageIndex * size..<(patch.imageIndex + 1) * size]))
            tiles.append(try TopActivations.crop(image, box: patch.box))
            captions.append(String(format: "%.2f", patch.activation))
        }
        let largest = tiles.map { max($0.shape[0], $0.shape[1]) }.max() ?? 1
        let grid = try ImageGrid.make(tiles: tiles, columns: ImageGrid.defaultColumns(tiles.count),
                                      scale: ImageGrid.upscaleFactor(size: largest, tileSize: tileSize ?? 64), tileCaptions: captions,
                                      caption: "\(layer) channel \(channel): top \(tiles.count) of \(data.train.count) training images",
                                      style: ImageGrid.Style(separator: 2, separatorColor: .white))
        let boxes = patches.map { "\($0.box.height)x\($0.box.width)" }
        try write(grid, mode: "top-patches", note: "patches \(Set(boxes).sorted().joined(separator: ", ")) from images "
                  + patches.map { String($0.imageIndex) }.joined(separator: ","))
    }
}
