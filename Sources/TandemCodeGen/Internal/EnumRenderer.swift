/// Renders a protobuf enum as a Swift enum conforming to `ProtobufEnum` and `CaseIterable`.
struct EnumRenderer {
  let access: String
  let comments: CommentTable

  func render(_ info: SymbolTable.EnumInfo, sourcePath: [Int32], into p: inout CodePrinter) {
    let shortName = String(info.swiftName.split(separator: ".").last!)
    let primaries = info.cases.filter { !$0.isAlias }
    let aliases = info.cases.filter(\.isAlias)
    p.docComment(comments.leading(sourcePath))
    p.block("nonisolated \(access)enum \(shortName): TandemProtobuf.ProtobufEnum, CaseIterable") { p in
      for enumCase in primaries {
        p.docComment(comments.leading(sourcePath + [2, Int32(enumCase.index)]))
        p.line("case \(enumCase.escaped) // = \(enumCase.number)")
      }
      if !info.isClosed {
        p.line("/// A number that this version of the schema does not define, kept so it survives re-encoding.")
        p.line("case UNRECOGNIZED(Int32)")
      }
      p.line()
      if let first = primaries.first {
        p.line("\(access)init() { self = .\(first.escaped) }")
      }
      p.line()
      p.block("\(access)init\(info.isClosed ? "?" : "")(rawValue: Int32)") { p in
        p.switchBlock("switch rawValue") { p in
          for enumCase in primaries {
            p.line("case \(enumCase.number): self = .\(enumCase.escaped)")
          }
          p.line(info.isClosed ? "default: return nil" : "default: self = .UNRECOGNIZED(rawValue)")
        }
      }
      p.line()
      p.block("\(access)var rawValue: Int32") { p in
        p.switchBlock("switch self") { p in
          for enumCase in primaries {
            p.line("case .\(enumCase.escaped): return \(enumCase.number)")
          }
          if !info.isClosed {
            p.line("case .UNRECOGNIZED(let number): return number")
          }
        }
      }
      p.line()
      p.line("/// Every defined value in declaration order, without aliases.")
      let list = primaries.map { ".\($0.escaped)" }.joined(separator: ", ")
      p.line("\(access)static let allCases: [\(shortName)] = [\(list)]")
      for alias in aliases {
        guard let target = primaries.first(where: { $0.number == alias.number }) else { continue }
        p.line()
        p.docComment(comments.leading(sourcePath + [2, Int32(alias.index)]))
        p.line("\(access)static let \(alias.escaped) = \(shortName).\(target.escaped)")
      }
    }
  }
}
