// Each source file adds its functions to the module's exports.
#pragma once

#include <napi.h>

namespace hv {

void ExportHost(Napi::Env env, Napi::Object exports);
void ExportHostDevices(Napi::Env env, Napi::Object exports);
void ExportDomain(Napi::Env env, Napi::Object exports);
void ExportMigration(Napi::Env env, Napi::Object exports);
void ExportStats(Napi::Env env, Napi::Object exports);
void ExportEvents(Napi::Env env, Napi::Object exports);
void ExportProcess(Napi::Env env, Napi::Object exports);

}  // namespace hv
