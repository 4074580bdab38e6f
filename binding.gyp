{
  "targets": [
    {
      "target_name": "hostvisor_libvirt",
      "sources": [
        "src/virt/libvirt/native/addon.cc",
        "src/virt/libvirt/native/connection_wrap.cc",
        "src/virt/libvirt/native/domain.cc",
        "src/virt/libvirt/native/event_loop.cc",
        "src/virt/libvirt/native/event_sink.cc",
        "src/virt/libvirt/native/events_api.cc",
        "src/virt/libvirt/native/host.cc",
        "src/virt/libvirt/native/host_devices.cc",
        "src/virt/libvirt/native/migration.cc",
        "src/virt/libvirt/native/process.cc",
        "src/virt/libvirt/native/js.cc",
        "src/virt/libvirt/native/shared_connection.cc",
        "src/virt/libvirt/native/stats.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"
      ],
      "defines": [
        "NAPI_VERSION=8",
        # A worker thread terminated while inside one of our calls (piscina's destroy at the
        # daemon's stop) makes every later Node-API call of that call fail; without this,
        # node-addon-api's rethrow of that failure escapes as a C++ exception and the whole
        # process aborts (SIGABRT). With it, the failure is dropped: the thread is ending anyway.
        # Must be the same in every file of the addon (node-addon-api's functions are inline).
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "<!@(pkg-config --cflags libvirt libvirt-qemu)"],
      "libraries": ["<!@(pkg-config --libs libvirt libvirt-qemu)"]
    }
  ]
}
