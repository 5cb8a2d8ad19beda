/// Messages and stubs of the `echo.v1.Echo` example service, generated from `v1/echo.proto` at build time.
@_exported import Tandem
