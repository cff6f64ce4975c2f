import SequentTensor

/// Stories in the style of the bAbI tasks (Weston et al. 2015), generated from a seed by
/// simulating people who move between places and pick up and drop objects. The real data
/// set cannot be downloaded here; these follow its format and its question kinds:
///
/// - 1 single supporting fact: "Where is Mary?" (her last move).
/// - 2 two supporting facts: "Where is the football?" (who holds it, and where they went).
/// - 3 three supporting facts: "Where was the football before the kitchen?"
/// - 6 yes/no questions: "Is John in the garden?"
/// - 7 counting: "How many objects is Sandra carrying?" (none, one, two, three).
/// - 8 lists: "What is Daniel carrying?" (`apple,milk`, or `nothing`).
///
/// Each story has statements and a question every few lines; a question's supporting ids
/// are the statements that determine its answer.
public struct BAbIGenerator {
    /// The task kinds generated.
    public static let tasks = [1, 2, 3, 6, 7, 8]

    static let people = ["Mary", "John", "Daniel", "Sandra"]
    static let places = ["bathroom", "hallway", "garden", "office", "kitchen", "bedroom"]
    static let objects = ["football", "apple", "milk"]
    static let moves = ["moved to", "went to", "journeyed to", "travelled to", "went back to"]
    static let numbers = ["none", "one", "two", "three"]

    public let task: Int
    private var generator: RandomGenerator

    /// A generator of `task` (one of `tasks`).
    ///
    /// - Throws: `SequentError.invalidArgument` for a task not generated.
    public init(task: Int, seed: UInt64) throws(SequentError) {
        guard Self.tasks.contains(task) else {
            throw .invalidArgument("bAbI generator", "task \(task) is not generated; choose one of \(Self.tasks.map(String.init).joined(separator: ", "))")
        }
        self.task = task
        generator = RandomGenerator(seed: seed ^ (UInt64(task) &* 0x9E37_79B9_7F4A_7C15))
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }
    private mutating func chance(_ p: Double) -> Bool { Double(generator.next() >> 11) / Double(1 << 53) < p }

    /// `count` stories of about `questions` questions each.
    public mutating func stories(_ count: Int, questions: Int = 5) -> [BAbIStory] {
        (0..<count).map { _ in story(questions: questions) }
    }

    /// The world while a story is told: where everyone is and what they hold, with the ids
    /// of the statements that made it so.
    private struct World {
        var location: [String: (place: String, fact: Int)] = [:]
        var holder: [String: (person: String, fact: Int)] = [:]
        /// The last drop of each object: where, and the facts (the drop, the move before it).
        var dropped: [String: (place: String, facts: [Int])] = [:]
        /// Each object's places over time with the facts behind each, for task 3.
        var history: [String: [(place: String, facts: [Int])]] = [:]
        var events: [String: [Int]] = [:]
    }

    private mutating func story(questions: Int) -> BAbIStory {
        var lines: [BAbILine] = []
        var world = World()
        var asked = 0, attempts = 0
        while asked < questions && attempts < 200 {
            attempts += 1
            let statementCount = task == 1 || task == 6 ? 2 : 3
            for _ in 0..<statementCount { lines.append(.statement(act(&world, id: lines.count + 1))) }
            if let question = ask(world) {
                lines.append(question)
                asked += 1
            }
        }
        return BAbIStory(lines: lines)
    }

    /// One statement, applied to the world.
    private mutating func act(_ world: inout World, id: Int) -> String {
        let person = pick(Self.people)
        let usesObjects = task != 1 && task != 6
        if usesObjects, world.location[person] != nil, chance(0.45) {
            let held = Self.objects.filter { world.holder[$0]?.person == person }
            if !held.isEmpty, chance(0.4) {
                let object = pick(held)
                let place = world.location[person]!
                world.holder[object] = nil
                world.dropped[object] = (place.place, [id, place.fact])
                world.events[person, default: []].append(id)
                return "\(person) \(pick(["dropped", "put down", "discarded"])) the \(object)."
            }
            let free = Self.objects.filter { world.holder[$0] == nil }
            if !free.isEmpty {
                let object = pick(free)
                let place = world.location[person]!
                world.holder[object] = (person, id)
                world.dropped[object] = nil
                world.history[object, default: []].append((place.place, [id, place.fact]))
                world.events[person, default: []].append(id)
                return "\(person) \(pick(["picked up", "grabbed", "got", "took"])) the \(object)."
            }
        }
        var place = pick(Self.places)
        while place == world.location[person]?.place { place = pick(Self.places) }
        world.location[person] = (place, id)
        for object in Self.objects where world.holder[object]?.person == person {
            let pickup = world.holder[object]!.fact
            world.history[object, default: []].append((place, [pickup, id]))
        }
        return "\(person) \(pick(Self.moves)) the \(place)."
    }

    /// A question the world can answer now, or nil.
    private mutating func ask(_ world: World) -> BAbILine? {
        switch task {
        case 1:
            guard let person = pickKnown(world) else { return nil }
            let place = world.location[person]!
            return .question("Where is \(person)?", answer: place.place, supporting: [place.fact])
        case 6:
            guard let person = pickKnown(world) else { return nil }
            let place = world.location[person]!
            let asked = chance(0.5) ? place.place : pick(Self.places)
            return .question("Is \(person) in the \(asked)?", answer: asked == place.place ? "yes" : "no", supporting: [place.fact])
        case 2:
            let candidates = Self.objects.filter { world.holder[$0] != nil || world.dropped[$0] != nil }
            guard !candidates.isEmpty else { return nil }
            let object = pick(candidates)
            if let (person, pickup) = world.holder[object], let place = world.location[person] {
                return .question("Where is the \(object)?", answer: place.place, supporting: [pickup, place.fact].sorted())
            }
            guard let dropped = world.dropped[object] else { return nil }
            return .question("Where is the \(object)?", answer: dropped.place, supporting: dropped.facts.sorted())
        case 3:
            let candidates = Self.objects.filter { object in
                guard let history = world.history[object], history.count >= 2 else { return false }
                return history[history.count - 1].place != history[history.count - 2].place
            }
            guard !candidates.isEmpty else { return nil }
            let object = pick(candidates)
            let history = world.history[object]!
            let (before, now) = (history[history.count - 2], history[history.count - 1])
            let facts = Array(Set(before.facts + now.facts)).sorted()
            return .question("Where was the \(object) before the \(now.place)?", answer: before.place, supporting: facts)
        default:   // 7 and 8
            let candidates = Self.people.filter { world.events[$0] != nil }
            guard !candidates.isEmpty else { return nil }
            let person = pick(candidates)
            let held = Self.objects.filter { world.holder[$0]?.person == person }
            let facts = held.isEmpty ? [world.events[person]!.last!] : held.map { world.holder[$0]!.fact }.sorted()
            if task == 7 {
                return .question("How many objects is \(person) carrying?", answer: Self.numbers[held.count], supporting: facts)
            }
            return .question("What is \(person) carrying?", answer: held.isEmpty ? "nothing" : held.joined(separator: ","), supporting: facts)
        }
    }

    private mutating func pickKnown(_ world: World) -> String? {
        let known = Self.people.filter { world.location[$0] != nil }
        return known.isEmpty ? nil : pick(known)
    }
}
