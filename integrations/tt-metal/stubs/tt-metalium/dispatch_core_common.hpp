// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
namespace tt::tt_metal {
class DispatchCoreConfig {};
}
