declare module 'libsvm-js';
declare module 'ml-xgboost';
