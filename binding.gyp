{
  "variables": {
    "pg_config%": "<!(node -p \"process.env.PQNODE_PG_CONFIG || 'pg_config'\")",
    # A directory laid out like the @embedded-postgres packages' native/ (lib/libpq.a,
    # lib/libpgcommon_shlib.a, lib/libpgport_shlib.a): when set, libpq and OpenSSL are
    # linked into the addon and only their headers come from pg_config. Used by
    # scripts/prebuild.sh; see the README.
    "static_libpq%": "<!(node -p \"process.env.PQNODE_STATIC_LIBPQ || ''\")",
    # where the static OpenSSL 3 (libssl.a, libcrypto.a) lives for such a build
    "static_openssl%": "<!(node -p \"process.env.PQNODE_STATIC_OPENSSL || ''\")"
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
        "src-native/cancel.cc",
        "src-native/detached_thread.cc",
        "src-native/loop_timer.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(<(pg_config) --includedir)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        # A Node-API call that fails because the environment no longer runs JS (a worker being
        # terminated) throws a Napi::Error like any other failure, instead of node-addon-api
        # killing the process while it builds that error.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LIBRARY": "libc++",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "conditions": [
        ["static_libpq==''", {
          "libraries": [
            "-L<!(<(pg_config) --libdir)",
            "-lpq"
          ],
          "ldflags": ["-Wl,-rpath,<!(<(pg_config) --libdir)"]
        }, {
          "sources": ["src-native/static/openssl3_compat.c", "src-native/static/glibc_compat.c"],
          # libpq 17's functions are linked, not looked up: a missing one fails the link
          "defines": ["PQNODE_LIBPQ_LINKED_STATICALLY"],
          "libraries": [
            "<(static_libpq)/lib/libpq.a",
            "<(static_libpq)/lib/libpgcommon_shlib.a",
            "<(static_libpq)/lib/libpgport_shlib.a",
            "<(static_openssl)/libssl.a",
            "<(static_openssl)/libcrypto.a",
            "-lpthread",
            "-ldl",
            "-lm"
          ],
          # no build paths in the binary: the same sources give the same bytes wherever built
          "cflags": ["-ffile-prefix-map=<(module_root_dir)/="],
          "cflags_cc": ["-ffile-prefix-map=<(module_root_dir)/="],
          "ldflags": [
            # Node has an OpenSSL of its own, exported to addons: every symbol of the
            # archives stays local to the addon, and the addon's references bind to its
            # own copies, so neither can ever pick up the other's.
            "-Wl,--exclude-libs,ALL",
            "-Wl,-Bsymbolic",
            "-Wl,--version-script=<(module_root_dir)/src-native/static/exports.map",
            # the C++ runtime too: the libstdc++ beside Node may be older than the compiler's
            # (glibc_compat.c keeps what the linked-in code asks of glibc to what Node needs)
            "-static-libstdc++",
            # same input, same bytes
            "-Wl,--build-id=none"
          ]
        }]
      ]
    }
  ]
}
