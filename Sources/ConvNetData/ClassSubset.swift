import ConvNetCore

/// Selecting some classes of a dataset, relabelled `0..<classes.count` in the order given — for
/// transfer-learning experiments that train on some classes and fine-tune on the others
/// (`convnet train --class-subset 0,1,2,3,4`).
public enum ClassSubset {
    /// Parses `"5,6,7,8,9"` or ranges such as `"5-9"` (mixed: `"0,2-4"`) into class indices.
    /// - Throws: `ConvNetError.argument` naming `flag` for an empty list, a non-number, a reversed
    ///   range or a repeated class.
    public static func parse(_ text: String, flag: String = "--class-subset") throws -> [Int] {
        var classes: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  low >= 0, low <= high else {
                throw ConvNetError.argument("\(flag) \(text): expected class indices such as 5,6,7 or a range such as 5-9, got \"\(part)\"")
            }
            classes += Array(low...high)
        }
        guard Set(classes).count == classes.count else {
            throw ConvNetError.argument("\(flag) \(text): a class is listed twice")
        }
        return classes
    }

    /// Checks that every class index exists among `classCount` classes.
    /// - Throws: `ConvNetError.argument` naming the first class out of range.
    static func validate(_ classes: [Int], classCount: Int, source: String) throws {
        guard !classes.isEmpty else { throw ConvNetError.argument("\(source): the class subset is empty") }
        if let bad = classes.first(where: { $0 >= classCount }) {
            throw ConvNetError.argument("\(source): class \(bad) is not among its \(classCount) classes (0...\(classCount - 1))")
        }
    }

    /// For each sample with a label in `classes`: its position and new label (the label's index in
    /// `classes`), in data order.
    static func selection(labels: [Int], classes: [Int]) -> (positions: [Int], labels: [Int]) {
        var newLabel = [Int: Int]()
        for (index, label) in classes.enumerated() { newLabel[label] = index }
        var positions: [Int] = [], relabelled: [Int] = []
        for (position, label) in labels.enumerated() {
            if let mapped = newLabel[label] { positions.append(position); relabelled.append(mapped) }
        }
        return (positions, relabelled)
    }
}

extension LabeledImages {
    /// Only the images whose label is in `classes`, relabelled by their class's position there:
    /// `restricted(toClasses: [5, 6, 7, 8, 9])` maps Fashion-MNIST's sandals (5) to 0 and ankle
    /// boots (9) to 4. Images keep their order; `classNames` become the chosen classes' names.
    /// - Throws: `ConvNetError.argument` for an empty list or a class that does not exist.
    public func restricted(toClasses classes: [Int], source: String) throws -> LabeledImages {
        try ClassSubset.validate(classes, classCount: classNames.count, source: source)
        let (positions, labels) = ClassSubset.selection(labels: self.labels, classes: classes)
        return try LabeledImages(images: try gatherRows(of: images, at: positions, op: "LabeledImages.restricted"), labels: labels,
                                 classNames: classes.map { classNames[$0] }, source: source)
    }

    /// The first `count` images (all of them when there are fewer), as `--limit` takes them.
    public func prefix(_ count: Int, source: String) throws -> LabeledImages {
        let kept = min(max(count, 0), self.count)
        guard kept < self.count else { return self }
        return try LabeledImages(images: try gatherRows(of: images, at: Array(0..<kept), op: "LabeledImages.prefix"), labels: Array(labels.prefix(kept)),
                                 classNames: classNames, source: source)
    }
}

extension ImageFolderDataset {
    /// The files of `classes` only, relabelled by their class's position in `classes`, then (with
    /// a `limit`) the class-balanced subset of that many (`ImageFolder.balancedSubset`).
    /// - Throws: `ConvNetError.argument` for an empty list or a class that does not exist.
    public func restricted(toClasses classes: [Int], limit: Int? = nil) throws -> ImageFolderDataset {
        try ClassSubset.validate(classes, classCount: classNames.count, source: root)
        let (positions, labels) = ClassSubset.selection(labels: self.labels, classes: classes)
        let chosen = try ImageFolder.balancedSubset(labels: labels, classCount: classes.count, limit: limit)
        return ImageFolderDataset(root: root, files: chosen.map { files[positions[$0]] }, labels: chosen.map { labels[$0] },
                                  classNames: classes.map { classNames[$0] }, sampleShape: sampleShape,
                                  imageSize: imageSize, channels: channels)
    }
}
