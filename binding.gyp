{
  "variables": {
    "pg_config%": "<!(node -p \"process.env.PQNODE_PG_CONFIG || 'pg_config'\")"
  },
  "targets": [
    {
      "target_name": "pqnode",
      "sources": [
        "src-native/addon.cc",
        "src-native/connection.cc",
        "src-native/connection_copy.cc",
        "src-native/socket_watch.cc",
        "src-native/result_builder.cc",
        "src-native/decoders.cc",
        "src-native/error_fields.cc",
        "src-native/cancel.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(<(pg_config) --includedir)"
      ],
      "libraries": [
        "-L<!(<(pg_config) --libdir)",
        "-lpq"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-rpath,<!(<(pg_config) --libdir)"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LIBRARY": "libc++",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
