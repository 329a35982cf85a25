/**
 * `ServerFeatures.GetSupportedMethods`: the client asks once per connection and uses BatchAppend only
 * when it is listed, so listing it is what makes `appendToStream` take the fast path.
 */
import type * as grpc from '@grpc/grpc-js'
import { serverFeatures, servedMethods, type shared } from './protocol.ts'

export function handleGetSupportedMethods(version: string) {
  return (_call: grpc.ServerUnaryCall<shared.Empty, serverFeatures.SupportedMethods>, callback: grpc.sendUnaryData<serverFeatures.SupportedMethods>): void => {
    const supported = new serverFeatures.SupportedMethods()
    supported.setEventStoreServerVersion(version)
    for (const { service, methods } of servedMethods) {
      for (const name of methods) {
        const method = new serverFeatures.SupportedMethod()
        method.setServiceName(service)
        method.setMethodName(name)
        supported.addMethods(method)
      }
    }
    callback(null, supported)
  }
}
