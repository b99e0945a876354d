import { libraryConfig } from '../../tsup.library.js';

export default libraryConfig(['src/index.ts', 'src/web.ts']);
