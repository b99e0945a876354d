// Lists the external-data references of an ONNX model (initializer name, location, offset,
// length) by walking the protobuf wire format directly: ModelProto.graph (7) → GraphProto.initializer
// (5) → TensorProto.name (8) / external_data (13: key 1, value 2). Used to check weight files before
// onnxruntime maps them. Not a general ONNX parser: every other field is skipped unread.

export interface ExternalDataReference {
  tensor: string;
  location: string;
  offset: number;
  length: number | null; // null when the model does not say (the rest of the file)
}

class WireReader {
  position: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      if (this.position >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.position++] as number;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
  }

  /** Returns [field, wireType, sub-reader for length-delimited fields]. */
  next(): { field: number; wireType: number; body: WireReader | null } {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 2) {
      const length = this.varint();
      const start = this.position;
      if (start + length > this.end) throw new Error('truncated field');
      this.position += length;
      return { field, wireType, body: new WireReader(this.bytes, start, start + length) };
    }
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.position += 8;
    else if (wireType === 5) this.position += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    return { field, wireType, body: null };
  }

  text(): string {
    return new TextDecoder().decode(this.bytes.subarray(this.position, this.end));
  }
}

function readTensor(reader: WireReader): ExternalDataReference | null {
  let tensor = '';
  const entries = new Map<string, string>();
  while (!reader.done) {
    const { field, body } = reader.next();
    if (field === 8 && body) tensor = body.text();
    if (field === 13 && body) {
      let key = '';
      let value = '';
      while (!body.done) {
        const entry = body.next();
        if (entry.field === 1 && entry.body) key = entry.body.text();
        if (entry.field === 2 && entry.body) value = entry.body.text();
      }
      entries.set(key, value);
    }
  }
  const location = entries.get('location');
  if (location === undefined) return null;
  const length = entries.get('length');
  return { tensor, location, offset: Number(entries.get('offset') ?? 0), length: length === undefined ? null : Number(length) };
}

/** Throws a plain Error on malformed protobuf; the caller turns it into a LoraTleError. */
export function listExternalData(model: Uint8Array): ExternalDataReference[] {
  const references: ExternalDataReference[] = [];
  const modelReader = new WireReader(model, 0, model.byteLength);
  while (!modelReader.done) {
    const { field, body } = modelReader.next();
    if (field !== 7 || !body) continue;
    while (!body.done) {
      const graphField = body.next();
      if (graphField.field !== 5 || !graphField.body) continue;
      const reference = readTensor(graphField.body);
      if (reference) references.push(reference);
    }
  }
  return references;
}
