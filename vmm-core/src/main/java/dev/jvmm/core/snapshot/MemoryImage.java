package dev.jvmm.core.snapshot;

import java.util.List;

/**
 * Where guest RAM is in a snapshot: {@code file} holds {@code bytes} of RAM at their offsets; only
 * the pages in {@code runs} were written (every other page is all zero and a hole in the file), so
 * a restore reads just those runs, straight into guest RAM.
 *
 * @param runs pairs of (first page, page count), ascending and disjoint
 * @param crc32c CRC32C over the runs' bytes in order, as 8 hex digits
 */
public record MemoryImage(String file, long bytes, int pageSize, List<Long> runs, String crc32c) {
    public MemoryImage {
        runs = List.copyOf(runs);
    }

    /** How many bytes the runs hold. */
    public long dataBytes() {
        long pages = 0;
        for (int i = 1; i < runs.size(); i += 2) pages += runs.get(i);
        return pages * pageSize;
    }
}
