import SequentNN
import SequentTensor
@testable import SequentTrain
import XCTest

/// What `Distributed` does without an MPI job: launch detection, the error for a library
/// that cannot be loaded, and the fingerprint that compares ranks. (Collectives run in
/// `DistributedTrainingTests`, which spawns `mpirun`.)
final class DistributedTests: XCTestCase {
    func testLaunchIsDetectedFromOpenMPIsEnvironment() {
        XCTAssertTrue(Distributed.isLaunchedByMPI(environment: ["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertFalse(Distributed.isLaunchedByMPI(environment: ["PATH": "/usr/bin"]))
    }

    func testAMissingLibraryIsAClearError() {
        XCTAssertThrowsError(try Distributed.start(library: "/nonexistent/libmpi.so.40")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("cannot load Open MPI's library (/nonexistent/libmpi.so.40)"), message)
            XCTAssertTrue(message.contains("apt-get install openmpi-bin libopenmpi-dev"), message)
            XCTAssertTrue(message.contains("mpirun -np N"), message)
        }
    }

    func testFingerprintSeesEveryBitAndTravelsExactlyInADouble() {
        var a = Fingerprint(), b = Fingerprint(), c = Fingerprint()
        a.add([1, 2, 3] as [Float])
        b.add([1, 2, 3] as [Float])
        c.add([1, 2, Float(bitPattern: Float(3).bitPattern ^ 1)])
        XCTAssertEqual(a.value, b.value)
        XCTAssertNotEqual(a.value, c.value)
        XCTAssertLessThan(a.value, 0x1p52)
        XCTAssertEqual(a.value, a.value.rounded())
    }

    func testRowListsNameRanks() {
        XCTAssertEqual(Distributed.list([1]), "rank 1")
        XCTAssertEqual(Distributed.list([1, 3]), "ranks 1, 3")
    }

    /// Buckets take the parameters last first (the order backward finishes them), each closed
    /// once it reaches the cap (the parameter that crosses it stays, as in DDP).
    func testBucketsTakeParametersLastFirstUpToTheCap() {
        let sizes = [3, 5, 2, 10, 1]
        let parameters = sizes.map { Parameter(Tensor(shape: [$0], scalars: [Float](repeating: 1, count: $0))) }
        let plan = BucketPlan(parameters: parameters, leaves: parameters.map { $0.value.gradientLeaf }, bucketElements: 8, order: [4, 3, 2, 1, 0])
        defer { plan.storage.close() }
        XCTAssertEqual(plan.buckets, [[4, 3], [2, 1, 0]])
        XCTAssertEqual(plan.storage.sizes, [11, 10])
        XCTAssertEqual(plan.place.map(\.bucket), [1, 1, 1, 0, 0])
        XCTAssertEqual(plan.place.map(\.offset), [7, 2, 0, 1, 0])
        XCTAssertEqual(plan.index[parameters[3].value.gradientLeaf!], 3)
        // In an observed order (DDP's rebuild after the first step).
        let observed = BucketPlan(parameters: parameters, leaves: plan.leaves, bucketElements: 8, order: [1, 4, 0, 3, 2], reordered: true)
        defer { observed.storage.close() }
        XCTAssertEqual(observed.buckets, [[1, 4, 0], [3], [2]])
        XCTAssertEqual(observed.storage.sizes, [9, 10, 2])
    }
}
