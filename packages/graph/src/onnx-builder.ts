// A thin helper for authoring ONNX graphs in TypeScript on top of onnx-proto (protobufjs, ONNX
// 1.10 schema): named nodes, attributes, small constant initializers, value infos, the model.
// It is not a general ONNX library: no shape inference, no checker, no reading of models.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

export const ElementType = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
} as const;
export type ElementType = (typeof ElementType)[keyof typeof ElementType];

/** A dimension: a number, or a symbolic name such as 'batch_size'. */
export type Dim = number | string;

/** Attribute values are tagged so that 1 (int) and 1.0 (float) cannot be confused. */
export type AttributeValue = { int: number } | { float: number } | { ints: readonly number[] } | { string: string };
export const int = (value: number): AttributeValue => ({ int: value });
export const float = (value: number): AttributeValue => ({ float: value });
export const ints = (values: readonly number[]): AttributeValue => ({ ints: values });

export interface NodeOptions {
  domain?: string; // '' (ai.onnx) or 'com.microsoft'
  attributes?: Record<string, AttributeValue>;
  /** Number of outputs (named automatically) or explicit output names. Default 1. */
  outputs?: number | readonly string[];
}

function attributeProto(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: Type.INT, i: value.int };
  if ('float' in value) return { name, type: Type.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: Type.INTS, ints: [...value.ints] };
  return { name, type: Type.STRING, s: new TextEncoder().encode(value.string) };
}

function valueInfo(name: string, elementType: ElementType, dims: readonly Dim[] | null): onnxProto.onnx.IValueInfoProto {
  const shape = dims === null ? undefined : { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) };
  return { name, type: { tensorType: { elemType: elementType, ...(shape ? { shape } : {}) } } };
}

/** Collects nodes, initializers and graph inputs/outputs; hands out unique value names. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** A fresh value name starting with `prefix`. */
  uniqueName(prefix: string): string {
    let name = prefix;
    for (let suffix = 1; this.usedNames.has(name); suffix++) name = `${prefix}_${suffix}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, elementType: ElementType, dims: readonly Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, elementType, dims));
    return name;
  }

  output(name: string, elementType: ElementType, dims: readonly Dim[] | null): void {
    this.outputs.push(valueInfo(name, elementType, dims));
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const outputSpec = options.outputs ?? 1;
    const base = opType.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
    const outputs =
      typeof outputSpec === 'number'
        ? Array.from({ length: outputSpec }, (_, index) => this.uniqueName(`${base}_out${index}`))
        : outputSpec.map((name) => (this.usedNames.add(name), name));
    this.nodes.push({
      opType,
      domain: options.domain ?? '',
      name: this.uniqueName(`${base}_node`),
      input: [...inputs],
      output: [...outputs], // a copy: callers may reuse the returned array
      attribute: Object.entries(options.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
    });
    return outputs;
  }

  /** A node with exactly one output; returns its name. */
  op(opType: string, inputs: readonly string[], options: Omit<NodeOptions, 'outputs'> & { output?: string } = {}): string {
    const { output, ...rest } = options;
    const [name] = this.node(opType, inputs, { ...rest, outputs: output === undefined ? 1 : [output] });
    return name as string;
  }

  /** A weight initializer built elsewhere (e.g. pointing at external data). */
  initializer(tensor: TensorProto): string {
    const name = tensor.name ?? '';
    this.usedNames.add(name);
    this.initializers.push(tensor);
    return name;
  }

  /** A small int64 constant stored inline; identical constants are shared. */
  int64Constant(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.uniqueName('const_i64');
    const raw = new BigInt64Array(values.map((value) => BigInt(value)));
    this.initializers.push({
      name,
      dataType: ElementType.int64,
      dims: [...dims],
      rawData: new Uint8Array(raw.buffer),
    });
    this.constants.set(key, name);
    return name;
  }

  /** Serialises the model. `opsets` maps domain ('' or 'com.microsoft') to version. */
  toModelBytes(options: { irVersion: number; opsets: Record<string, number>; producer: string; graphName: string }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: options.irVersion,
      producerName: options.producer,
      opsetImport: Object.entries(options.opsets).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
