"""Plumbing every layer uses: file readers, atomic writes, one-line errors, interrupts, progress,
the device, time spans, the allocator and fault injection for tests."""
