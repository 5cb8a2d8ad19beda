// The `Tandem` module is the one a user imports: it re-exports the call layer (status codes,
// metadata, call options, the service and client types that generated code uses) and the
// protobuf runtime, and adds `Server` and `Channel`.
@_exported import TandemCore
@_exported import TandemProtobuf
@_exported import struct TandemHTTP.HTTPField
@_exported import enum TandemHTTP.HTTPVersion
@_exported import struct TandemHTTP.HTTPTransportError
@_exported import struct TandemHTTP2.HTTP2Configuration
@_exported import struct TandemHTTP2.HTTP2ConfigurationError
@_exported import struct TandemHTTP3.HTTP3Configuration
@_exported import class TandemHTTP3.QUICSessionCache
