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
}
