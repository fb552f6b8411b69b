// Public API of the onnx area: reading, validating and writing ONNX models, and test models.
export { DATA_TYPES, DATATYPES, dataTypeByOnnx, dataTypeByName, isDatatype } from './data-types.js';
export type { Datatype, DataTypeInfo } from './data-types.js';
export { decodeModelProto, encodeModelProto } from './proto.js';
export type {
  ModelProto,
  GraphProto,
  NodeProto,
  AttributeProto,
  TensorProto,
  ValueInfoProto,
  TypeProto,
  TensorShapeProto,
  TensorShapeDimension,
  OperatorSetIdProto,
  StringStringEntryProto,
} from './proto.js';
export { readOnnxModel, readSignature, signatureOf, typeString } from './signature.js';
export type { ModelSignature, ValueSignature, InputSignature } from './signature.js';
export { validateOnnxModel } from './validate.js';
export { buildModel, encodeTensor, float16Bits, bfloat16Bits, DEFAULT_IR_VERSION, DEFAULT_OPSET } from './writer.js';
export type { ModelSpec, NodeSpec, ValueSpec, TensorSpec, AttributeValue, ShapeDim } from './writer.js';
export { linearModel, mlpModel, mlpParameters, identityModel, failingModel, slowRowModel, seededRandom } from './test-models.js';
export type { MlpOptions, MlpParameters } from './test-models.js';
