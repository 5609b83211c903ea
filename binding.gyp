{
  "targets": [
    {
      "target_name": "ipvs",
      "sources": [
        "native/addon.cc",
        "native/batch.cc",
        "native/cancel.cc",
        "native/conn_parse.cc",
        "native/conn_read.cc",
        "native/connections.cc",
        "native/constants.cc",
        "native/daemon.cc",
        "native/decode.cc",
        "native/destination.cc",
        "native/error.cc",
        "native/executor.cc",
        "native/info.cc",
        "native/listing.cc",
        "native/netlink.cc",
        "native/procfs.cc",
        "native/reply.cc",
        "native/service.cc",
        "native/snapshot.cc",
        "native/socket.cc",
        "native/sockopt.cc",
        "native/stats.cc",
        "native/timeouts.cc"
      ],
      # libnl's include directories and libraries come from pkg-config; the
      # script fails with a message naming the packages when they are missing.
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(scripts/check-libnl cflags)"
      ],
      "libraries": ["<!@(scripts/check-libnl libs)"],
      # C++ exceptions carry kernel errors out of worker threads (task.h);
      # _ALL: one that escapes a callback anyway (std::bad_alloc where node-addon-api
      # allocates an ObjectWrap) becomes a JavaScript error, not an abort.
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    }
  ]
}
