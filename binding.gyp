{
  # The build of record. CMakeLists.txt mirrors it for cmake-js, and test/build.test.ts
  # fails when the two disagree on sources or defines.
  "variables": {
    # Opt-in kqueue on Linux through libkqueue: IOMUX_KQUEUE_PREFIX=/prefix npm run build
    "kqueue_prefix%": "<!(node -p \"process.env.IOMUX_KQUEUE_PREFIX || ''\")"
  },
  "targets": [
    {
      "target_name": "addon",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/constants.cc",
        "native/timeout.cc",
        "native/select.cc",
        "native/poll.cc",
        "native/fd.cc",
        "native/socket.cc",
        "native/sockaddr.cc",
        "native/sockopt.cc",
        "native/udp.cc",
        "native/iovec.cc",
        "native/waiter.cc",
        "native/waiter_core.cc",
        "native/loop_watch.cc",
        "native/sync_interrupt.cc",
        "native/wait_once.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      # A worker terminated in the middle of a native call makes napi calls fail; without this,
      # node-addon-api (C++ exceptions off) would turn the failed throw into a fatal error.
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/epoll.cc", "native/epoll_wait.cc", "native/epoll_async.cc",
                      "native/io_uring.cc", "native/io_uring_ring.cc", "native/io_uring_wait.cc",
                      "native/io_uring_async.cc"],
          "defines": ["HAVE_EPOLL=1", "HAVE_IO_URING=1"]
        }],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {
          "sources": ["native/kqueue.cc", "native/kqueue_async.cc"],
          "defines": ["HAVE_KQUEUE=1"]
        }],
        ["OS=='linux' and kqueue_prefix!=''", {
          "sources": ["native/kqueue.cc", "native/kqueue_async.cc"],
          "defines": ["HAVE_KQUEUE=1", "HAVE_LIBKQUEUE=1"],
          "include_dirs": ["<(kqueue_prefix)/include/kqueue"],
          # libkqueue installs into lib/ or lib64/ (GNUInstallDirs): search both, at build and run time.
          # -z nodelete: Node dlclose()s an addon when the last worker_thread that loaded it exits;
          # libkqueue would then be unmapped under its own monitoring thread (a SIGSEGV seen here).
          "libraries": [
            "-L<(kqueue_prefix)/lib", "-L<(kqueue_prefix)/lib64",
            "-Wl,-rpath,<(kqueue_prefix)/lib", "-Wl,-rpath,<(kqueue_prefix)/lib64", "-lkqueue",
            "-Wl,-z,nodelete"
          ]
        }]
      ]
    },
    {
      # The bench's Node-API floor (bench/napi/floor.c): plain C node_api.h, never loaded by the
      # library. Named napi_floor.so, not .node: node-gyp-build loads the first .node file of
      # build/Release, which must stay addon.node.
      # A shared_library, because node-gyp names every loadable_module *.node; its napi_*
      # symbols resolve against the node binary when the bench dlopen()s it.
      "target_name": "napi_floor",
      "type": "shared_library",
      "product_prefix": "",
      "product_extension": "so",
      "sources": ["bench/napi/floor.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "xcode_settings": { "MACOSX_DEPLOYMENT_TARGET": "10.15", "OTHER_LDFLAGS": ["-undefined dynamic_lookup"] }
    }
  ]
}
