/** Video in and out: encode (MP4/WebM), decode, PNG frames, file names. */
export * from './encode';
export * from './decode';
export * from './png';
export * from './names';
export * from './gif';
