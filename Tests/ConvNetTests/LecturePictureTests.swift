import ConvNet
import Foundation
import Testing

/// Pictures the lecture notes draw: legends that never cover a curve, overlaid runs with a
/// learning-rate panel, Grad-CAM and Zeiler & Fergus patches on a model whose answer is known.
@Suite struct LecturePictureTests {
    /// The legend rectangle and the line segments of each panel of an SVG figure.
    static func legendsAndSegments(_ svg: String) throws -> [(legend: (x: Double, y: Double, w: Double, h: Double), segments: [(DrawingPoint, DrawingPoint)])] {
        let parsed = try SVGElements(svg)
        var panels: [(legend: (x: Double, y: Double, w: Double, h: Double), segments: [(DrawingPoint, DrawingPoint)])] = []
        var current: [(DrawingPoint, DrawingPoint)] = []
        for element in parsed.elements {
            if element.name == "polyline", element.attributes["class"] == "series" {
                let points = (element.attributes["points"] ?? "").split(separator: " ").map { pair -> DrawingPoint in
                    let xy = pair.split(separator: ",").compactMap { Double($0) }
                    return DrawingPoint(xy[0], xy[1])
                }
                current += zip(points, points.dropFirst()).map { ($0, $1) }
            }
            if element.name == "rect", element.groups.last == "legend", element.attributes["fill"] != "none" {
                let value = { (key: String) in Double(element.attributes[key] ?? "") ?? .nan }
                panels.append(((value("x"), value("y"), value("width"), value("height")), current))
                current = []
            }
        }
        return panels
    }

    /// Whether the segment enters the rectangle, by sampling it every 0.25 units.
    static func crosses(_ segment: (DrawingPoint, DrawingPoint), _ box: (x: Double, y: Double, w: Double, h: Double)) -> Bool {
        let (a, b) = segment
        let steps = max(1, Int((hypot(b.x - a.x, b.y - a.y) / 0.25).rounded(.up)))
        return (0...steps).contains { step in
            let t = Double(step) / Double(steps)
            let x = a.x + t * (b.x - a.x), y = a.y + t * (b.y - a.y)
            return x >= box.x && x <= box.x + box.w && y >= box.y && y <= box.y + box.h
        }
    }

    /// Lines through all four corners of the plot area (an X and a frame-hugging zigzag): no
    /// corner is free at first, so the axis must grow until the legend covers nothing.
    @Test func legendNeverCoversACurve() throws {
        let x = (0...20).map(Double.init)
        let rising = PlotSeries(name: "rising line with a long name", x: x, y: x, color: RGBColor.palette[0])
        let falling = PlotSeries(name: "falling", x: x, y: x.map { 20 - $0 }, color: RGBColor.palette[1], dashed: true)
        let zigzag = PlotSeries(name: "zigzag", x: x, y: x.map { Int($0) % 2 == 0 ? 0 : 20 }, color: RGBColor.palette[2])
        let figure = Figure(panels: [PlotPanel(title: "crossed", xLabel: "x", yLabel: "y", series: [rising, falling, zigzag])])
        let panels = try Self.legendsAndSegments(figure.svg())
        #expect(panels.count == 1)
        for panel in panels {
            #expect(!panel.segments.isEmpty)
            for segment in panel.segments { #expect(!Self.crosses(segment, panel.legend), "legend \(panel.legend) covers \(segment)") }
        }
        // The training-curve figures obey the same rule.
        let csv = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n" + (1...12).map { epoch in
            "\(epoch),\(1.0 / Double(epoch)),\(1 - 0.5 / Double(epoch)),\(1.1 / Double(epoch)),\(1 - 0.6 / Double(epoch)),\(0.1 * pow(0.8, Double(epoch)))"
        }.joined(separator: "\n")
        let history = try History(csv: csv, source: "run.csv")
        let curves = try TrainingCurves.overlayFigure(runs: [("a", history), ("b", history)], title: "two runs")
        #expect(curves.panels.map(\.title) == ["Loss", "Accuracy", "Learning rate"])
        #expect(curves.panels[0].series.map(\.name) == ["a loss", "a validation loss", "b loss", "b validation loss"])
        for panel in try Self.legendsAndSegments(curves.svg()) {
            for segment in panel.segments { #expect(!Self.crosses(segment, panel.legend)) }
        }
        // A single run: the learning-rate panel only when asked for.
        #expect(try TrainingCurves.figure(history: history).panels.count == 2)
        let withRate = try TrainingCurves.figure(history: history, learningRate: true)
        #expect(withRate.panels.last?.series.first?.y.first.map { abs($0 - 0.08) < 1e-12 } == true)
    }

    /// A model that looks only at the right half of the image: Grad-CAM of its class 1 lights up
    /// the right half and stays 0 on the left; the top patches of a channel that sums the right
    /// half come from the brightest images and lie in the right half.
    @Test func gradCAMAndTopPatchesOnAKnownModel() throws {
        var model = try Model(inputShape: [8, 8, 1], seed: 1) {
            Conv2D(1, kernelSize: 1, activation: .relu, name: "mask")
            Flatten()
            Dense(2, activation: .softmax, name: "out")
        }
        // The 1x1 convolution copies the pixels; the dense layer scores class 1 by the right half.
        model.layers[0].trainableWeights = [Tensor(shape: [1, 1, 1, 1], repeating: 1), Tensor([0])]
        var kernel = [Float](repeating: 0, count: 64 * 2)
        for row in 0..<8 { for column in 4..<8 { kernel[(row * 8 + column) * 2 + 1] = 1 } }
        model.layers[2].trainableWeights = [try Tensor(shape: [64, 2], scalars: kernel), Tensor([0, 0])]
        // Dark left half, bright right half: A = x, ∂S₁/∂A is 1 on the right half and 0 on the left,
        // α = 32/64 = 0.5, so L = ReLU(0.5 · A) is 0.5 on the right and 0 on the left.
        let image = try Tensor(shape: [8, 8, 1], scalars: (0..<64).map { $0 % 8 < 4 ? 0 : 1 })
        let cam = try GradCAM.compute(model: model, image: image, layer: "mask", classIndex: 1)
        #expect(cam.layerName == "mask" && cam.classIndex == 1)
        #expect(cam.coarseMap.shape == [8, 8] && cam.map.shape == [8, 8])
        #expect(cam.coarseMap.scalars == (0..<64).map { $0 % 8 < 4 ? 0 : 0.5 })
        #expect(cam.map.scalars == cam.coarseMap.scalars)  // same size: the resize is the identity
        #expect(GradCAM.defaultLayer(of: model) == "mask")

        // Images with brightness growing with their index: the strongest activations of the
        // mask channel are in the brightest images, and each unit depends on its own pixel only.
        let images = try Tensor(shape: [6, 8, 8, 1], scalars: (0..<6).flatMap { index in (0..<64).map { Float(index + 1) + Float($0 % 8) / 100 } })
        let patches = try TopActivations.find(model: model, inputs: images, layer: "mask", channel: 0, count: 3, batchSize: 4)
        #expect(patches.map(\.imageIndex) == [5, 4, 3])
        for patch in patches {
            #expect(patch.position.column == 7)
            #expect(patch.box.height == 1 && patch.box.width == 1 && patch.box.left == 7)
        }
        #expect(throws: ConvNetError.self) { try TopActivations.find(model: model, inputs: images, layer: "out", channel: 0) }
        #expect(throws: ConvNetError.self) { try TopActivations.find(model: model, inputs: images, layer: "mask", channel: 1) }
        let patch = try TopActivations.crop(Tensor(shape: [8, 8, 1], scalars: (0..<64).map(Float.init)), box: (2, 3, 2, 2))
        #expect(patch.scalars == [19, 20, 27, 28])

        // SmoothGrad with no noise and one sample is the plain saliency.
        let plain = try Saliency.compute(model: model, image: image, classIndex: 1)
        let smooth = try Saliency.smoothGrad(model: model, image: image, classIndex: 1, samples: 1, noise: 0)
        #expect(smooth.map.scalars == plain.map.scalars)
    }
}
