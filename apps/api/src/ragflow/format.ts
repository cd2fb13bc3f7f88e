/** RAGFlow row timestamps: epoch ms plus RFC-822 dates (Quart's JSON form, e.g. "Mon, 28 Apr 2025 18:40:41 GMT"). */
export function rowTimes(createdAt: Date, updatedAt: Date | null = createdAt) {
  return {
    create_time: createdAt.getTime(),
    create_date: createdAt.toUTCString(),
    update_time: updatedAt ? updatedAt.getTime() : null,
    update_date: updatedAt ? updatedAt.toUTCString() : null,
  };
}

/** Chunk create_time "YYYY-MM-DD HH:MM:SS" and create_timestamp (epoch seconds, float). */
export function chunkTimes(createdAt: Date) {
  const iso = createdAt.toISOString();
  return { create_time: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, create_timestamp: createdAt.getTime() / 1000 };
}
