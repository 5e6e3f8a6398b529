#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the Module.symvers of a kernel built without CONFIG_MODVERSIONS
from its vmlinux (e.g. out of a distribution's vmlinuz by
scripts/extract-vmlinux): every symbol of __ksymtab and __ksymtab_gpl with
its namespace, CRC 0 (no CRC is checked without MODVERSIONS).

    ksymtab-symvers.py VMLINUX > Module.symvers

x86-64 layout (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS): struct kernel_symbol
is three s32 offsets (value, name, namespace), each relative to itself.
"""
import struct
import sys


def sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("ksymtab-symvers: not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
            for i in range(shnum)]
    strtab = hdrs[shstrndx]
    out = {}
    for h in hdrs:
        off = strtab[4] + h[0]
        name = data[off:data.index(b"\0", off)].decode()
        out[name] = (h[3], h[4], h[5])  # addr, file offset, size
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ksymtab-symvers.py VMLINUX > Module.symvers")
    data = open(sys.argv[1], "rb").read()
    secs = sections(data)
    strs = secs.get("__ksymtab_strings")
    if not strs:
        sys.exit("ksymtab-symvers: no __ksymtab_strings section")

    def string(addr):
        if not strs[0] <= addr < strs[0] + strs[2]:
            sys.exit("ksymtab-symvers: string at %#x outside __ksymtab_strings" % addr)
        off = strs[1] + addr - strs[0]
        return data[off:data.index(b"\0", off)].decode()

    n = 0
    for sec, kind in (("__ksymtab", "EXPORT_SYMBOL"), ("__ksymtab_gpl", "EXPORT_SYMBOL_GPL")):
        if sec not in secs:
            continue
        addr, off, size = secs[sec]
        if size % 12:
            sys.exit("ksymtab-symvers: %s is not made of 12-byte entries" % sec)
        for i in range(0, size, 12):
            _, name_off, ns_off = struct.unpack_from("<iii", data, off + i)
            name = string(addr + i + 4 + name_off)
            ns = string(addr + i + 8 + ns_off) if ns_off else ""
            print("0x00000000\t%s\tvmlinux\t%s\t%s" % (name, kind, ns))
            n += 1
    if n == 0:
        sys.exit("ksymtab-symvers: no exported symbol found")
    print("ksymtab-symvers: %d symbols" % n, file=sys.stderr)


if __name__ == "__main__":
    main()
