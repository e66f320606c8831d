import ConveyorMetrics

/// Requests from templates (see ``V2RequestTemplate``): writing one, and keeping the
/// template of a batch written twice.
extension WriteRequestV2Writer {
    /// Writes the request for `chunks` from the template recorded for the same slices: the
    /// symbols and each series' refs and metadata are copied, the samples written. False
    /// (nothing written) if the template does not have one piece per sample.
    func write(_ chunks: [SampleChunk], from template: V2RequestTemplate) -> Bool {
        let samples = chunks.reduce(0) { $0 + $1.count }
        guard samples == template.lengths.count, chunks.count == template.layouts.count,
            var piece = UnsafeRawPointer(template.pieces.baseAddress)
        else { return false }
        // Per sample besides its pieces: series tag and length (≤ 6) and sample (≤ 33); then
        // room for the last word copied or varint stored past the end.
        let histogramBytes = chunks.reduce(0) { $0 + $1.histogramBytes }
        let start = buffer.reserve(template.symbolCount + template.pieces.count + samples * 40 + histogramBytes + 16)
        if let symbols = template.symbols.baseAddress {
            start.copyMemory(from: symbols, byteCount: template.symbolCount)
        }
        var cursor = start + template.symbolCount
        var next = 0
        template.lengths.withUnsafeBufferPointer { lengths in
            for (chunk, layout) in zip(chunks, template.layouts) {
                let packed = PackedVarint(UInt64(bitPattern: chunk.timestamp))
                Self.withHistograms(of: chunk) { histograms in
                    layout.entries.withUnsafeBufferPointer { entries in
                        chunk.values.withUnsafeBufferPointer { values in
                            for index in chunk.start..<chunk.end {
                                let length = lengths[next]
                                next &+= 1
                                let refs = Int(length & 0xFF_FFFF)
                                let metadata = Int(length >> 24)
                                cursor = ProtobufWriter.put(0x2A, cursor)  // Request.timeseries
                                let body = cursor + 1
                                V2RequestTemplate.copyWords(piece, body, refs)
                                piece += V2RequestTemplate.padded(refs)
                                cursor = Self.putSample(
                                    entries[index], value: values[index], histograms: histograms, index: index,
                                    timestamp: chunk.timestamp, packed: packed, at: body + refs)
                                V2RequestTemplate.copyWords(piece, cursor, metadata)
                                piece += V2RequestTemplate.padded(metadata)
                                cursor = Self.closeLength(body: body, end: cursor + metadata)
                            }
                        }
                    }
                }
            }
        }
        buffer.count = cursor - start
        return true
    }

    /// Records the template of the request just written when the same slices were written
    /// before (a batch seen once may never come again: with a backlog the slices shift).
    /// A full cache makes room only from templates idle for a while: a flush's batches come
    /// round in a cycle, which an LRU cache smaller than the cycle would never hit.
    func keepTemplate(of chunks: [SampleChunk], _ slices: [V2RequestTemplate.Slice]) {
        guard let seen = recentSlices.firstIndex(of: slices) else {
            recentSlices.insert(slices, at: 0)
            if recentSlices.count > 2 * Self.maxTemplates { recentSlices.removeLast() }
            return
        }
        recentSlices.remove(at: seen)
        // Templates of series lists the writer no longer writes, and idle ones, go first.
        templates.removeAll { old in
            old.layouts.contains { used in !layouts.contains { $0 === used } }
                || writes - old.lastUsed > 4 * Self.maxTemplates
        }
        let symbolsLength = 2 + symbolBytes
        let body = buffer.body
        guard templates.count < Self.maxTemplates, body.count >= symbolsLength,
            let template = V2RequestTemplate(
                slices: slices, layouts: chunks.map { layout(of: $0.series) },
                symbols: UnsafeRawBufferPointer(rebasing: body[0..<symbolsLength]),
                series: UnsafeRawBufferPointer(rebasing: body[symbolsLength...]),
                samples: chunks.reduce(0) { $0 + $1.count }),
            templateBytes + template.byteCount <= Self.maxTemplateBytes
        else { return }
        template.lastUsed = writes
        templates.append(template)
    }
}
