import Synchronization

// A one-shot rendezvous for forcing interleavings without sleeps: one task
// `wait`s until another `open`s the gate.

final class Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }

    func open() { continuation.finish() }

    func wait() async { for await _ in stream {} }
}

/// A value shared between test tasks (Mutex boxed, so closures can capture it).
final class Locked<T: Sendable>: Sendable {
    private let mutex: Mutex<T>
    init(_ value: T) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout T) -> R) -> R { mutex.withLock { body(&$0) } }
}
