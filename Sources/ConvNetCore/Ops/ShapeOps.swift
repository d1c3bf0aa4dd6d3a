/// Flattens all axes after the first: `(m, n_H, n_W, n_C) → (m, n_H · n_W · n_C)`, in NHWC order
/// (the same order as Keras's `Flatten` with `channels_last`).
public func flatten(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 1 else { throw ConvNetError.shape(op: "flatten", message: "cannot flatten a scalar") }
    return try x.reshaped(to: [x.shape[0], x.shape.dropFirst().reduce(1, *)])
}

/// Zero padding of the two spatial axes: `(m, n_H, n_W, n_C) → (m, n_H + top + bottom, n_W + left + right, n_C)`.
/// Backward crops the padding away.
public func zeroPad2d(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int) throws -> Tensor {
    try x.expectRank(4, op: "zeroPad2d")
    guard top >= 0, bottom >= 0, left >= 0, right >= 0 else {
        throw ConvNetError.argument("zeroPad2d: padding must not be negative, got (\(top), \(bottom), \(left), \(right))")
    }
    let (m, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (ph, pw) = (h + top + bottom, w + left + right)
    var out = [Float](repeating: 0, count: m * ph * pw * c)
    for i in 0..<m {
        for y in 0..<h {
            let source = ((i * h + y) * w) * c, target = ((i * ph + y + top) * pw + left) * c
            out.replaceSubrange(target..<target + w * c, with: x.scalars[source..<source + w * c])
        }
    }
    return record(Tensor(validShape: [m, ph, pw, c], scalars: out), inputs: [x]) { upstream, _ in
        var dx = [Float](repeating: 0, count: x.count)
        for i in 0..<m {
            for y in 0..<h {
                let target = ((i * h + y) * w) * c, source = ((i * ph + y + top) * pw + left) * c
                dx.replaceSubrange(target..<target + w * c, with: upstream.scalars[source..<source + w * c])
            }
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// Concatenates tensors along the last axis (channels), as inception modules do. All other axes
/// must agree. Backward slices the upstream gradient back apart.
public func concatenate(_ tensors: [Tensor]) throws -> Tensor {
    guard let first = tensors.first, first.rank >= 1 else {
        throw ConvNetError.argument("concatenate: needs at least one tensor of rank ≥ 1")
    }
    let outer = Array(first.shape.dropLast())
    for t in tensors where Array(t.shape.dropLast()) != outer || t.rank != first.rank {
        throw ConvNetError.shape(op: "concatenate", message: "shapes \(tensors.map { describe(shape: $0.shape) }.joined(separator: ", ")) differ outside the last axis")
    }
    let widths = tensors.map { $0.shape.last ?? 0 }
    let total = widths.reduce(0, +)
    let rows = outer.reduce(1, *)
    var out = [Float](repeating: 0, count: rows * total)
    var offset = 0
    for (t, width) in zip(tensors, widths) {
        for r in 0..<rows {
            out.replaceSubrange(r * total + offset..<r * total + offset + width, with: t.scalars[r * width..<(r + 1) * width])
        }
        offset += width
    }
    return record(Tensor(validShape: outer + [total], scalars: out), inputs: tensors) { upstream, needed in
        var offset = 0
        return zip(tensors, widths).enumerated().map { index, pair in
            let (t, width) = pair
            defer { offset += width }
            guard needed[index] else { return nil }
            var part = [Float](repeating: 0, count: t.count)
            for r in 0..<rows {
                part.replaceSubrange(r * width..<(r + 1) * width,
                                     with: upstream.scalars[r * total + offset..<r * total + offset + width])
            }
            return Tensor(validShape: t.shape, scalars: part)
        }
    }
}
