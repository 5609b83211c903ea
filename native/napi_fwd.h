// node-addon-api's class names, for headers that declare conversions to and
// from JavaScript beside plain structs and their decoders: code that includes
// such a header only for the decoders (decode.cc, the native tests, the fuzz
// targets) then builds without Node's headers.
#pragma once

namespace Napi {
class CallbackInfo;
class Env;
class Object;
class Value;
}  // namespace Napi
