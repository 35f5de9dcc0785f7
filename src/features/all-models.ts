/** Imports every model module so the registry knows each class (side effect: registerFeatureModel calls). */
import './bucketing.js';
import './categorical.js';
import './imputer.js';
import './multi-hot.js';
import './scalers.js';
import './text.js';
import './time-features.js';
import './vector-assembler.js';
