import ConvNet
import Testing

/// A tensor's elements change only through the explicit mutation APIs, which detach it from any
/// gradient tape, so a recorded computation can never see its inputs change behind its back.
@Suite struct TensorMutationTests {
    @Test("setScalars replaces the elements and refuses a wrong count, leaving the tensor as it was")
    func setScalars() throws {
        var tensor = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        try tensor.setScalars([5, 6, 7, 8])
        #expect(tensor.scalars == [5, 6, 7, 8])
        #expect(throws: ConvNetError.self) { try tensor.setScalars([1, 2, 3]) }
        #expect(tensor.scalars == [5, 6, 7, 8])
        #expect(tensor.shape == [2, 2])
    }

    @Test("withUnsafeMutableScalars changes the elements in place")
    func mutableBuffer() throws {
        var tensor = try Tensor(shape: [3], scalars: [1, 2, 3])
        let count = tensor.withUnsafeMutableScalars { buffer in
            for index in buffer.indices { buffer[index] *= 10 }
            return buffer.count
        }
        #expect(count == 3)
        #expect(tensor.scalars == [10, 20, 30])
    }

    @Test("a watched tensor that is changed is detached: the tape no longer differentiates through it")
    func mutationDetachesFromTape() throws {
        let tape = GradientTape()
        var watched = tape.watch(try Tensor(shape: [2], scalars: [1, 2]))
        let before = (watched * 3).sum()
        #expect(try tape.gradient(of: before, withRespectTo: [watched])[0].scalars == [3, 3])
        try watched.setScalars([4, 5])
        // The result computed before keeps the old values; a result computed after is a constant.
        #expect(before.scalar == 9)
        let after = (watched * 3).sum()
        #expect(after.scalar == 27)
        #expect(throws: ConvNetError.self) { _ = try tape.gradient(of: after, withRespectTo: [watched]) }
    }
}
