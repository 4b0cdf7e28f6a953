/**
 * Made-up households per language, to fill `{area}`, `{floor}` and `{name}` when expanding templates, so the
 * models do not memorise the one home of Home Assistant's fixtures. Deliberately different from the fixtures
 * (fixtures/<lang>/_fixtures.yaml): other rooms, other device names, some lower-case as speech recognisers
 * write them. Also the fillers for wildcard lists (music, timer names, list items).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Entity, Household } from './templates/sample.js';

type Spec = Record<string, string>; // domain → names separated by "|"

function entities(spec: Spec): Entity[] {
  return Object.entries(spec).flatMap(([domain, names]) => names.split('|').map((name) => ({ name, domain })));
}

function house(name: string, areas: string, floors: string, spec: Spec, wildcards: Household['wildcards']): Household {
  return { name, areas: areas.split('|'), floors: floors ? floors.split('|') : [], entities: entities(spec), wildcards };
}

const WILDCARDS: Record<string, Record<string, readonly string[]>> = {
  de: {
    search_query: ['Jazz', 'die Beatles', 'Klassik', 'Helene Fischer', 'Rockmusik', 'das neue Album von Adele', 'Nachrichten'],
    timer_name: ['Pizza', 'Nudeln', 'Eier', 'Wäsche', 'Tee'],
    shopping_list_item: ['Milch', 'Brot', 'Eier', 'Kaffee', 'Äpfel'],
    todo_list_item: ['Müll rausbringen', 'Katze füttern', 'Rechnung bezahlen'],
    '*': ['Einkauf', 'Oma'],
  },
  fr: {
    search_query: ['du jazz', 'les Beatles', 'de la musique classique', 'Stromae', 'du rock', 'le dernier album de Adele'],
    timer_name: ['pizza', 'pâtes', 'oeufs', 'lessive', 'thé'],
    shopping_list_item: ['lait', 'pain', 'oeufs', 'café', 'pommes'],
    todo_list_item: ['sortir les poubelles', 'nourrir le chat', 'payer la facture'],
    '*': ['courses', 'mamie'],
  },
  es: {
    search_query: ['jazz', 'los Beatles', 'música clásica', 'Shakira', 'rock', 'el último disco de Rosalía'],
    timer_name: ['pizza', 'pasta', 'huevos', 'colada', 'té'],
    shopping_list_item: ['leche', 'pan', 'huevos', 'café', 'manzanas'],
    todo_list_item: ['sacar la basura', 'dar de comer al gato', 'pagar la factura'],
    '*': ['compra', 'abuela'],
  },
  'zh-cn': {
    search_query: ['周杰伦', '轻音乐', '古典音乐', '摇滚乐', '邓紫棋的歌'],
    timer_name: ['煮面', '鸡蛋', '洗衣', '泡茶', '披萨'],
    shopping_list_item: ['牛奶', '面包', '鸡蛋', '咖啡', '苹果'],
    todo_list_item: ['倒垃圾', '喂猫', '交电费'],
    '*': ['买菜', '奶奶'],
  },
};

/** Three made-up homes per language (a flat, a family house, a house with a garden and garage). */
export const HOUSEHOLDS: Readonly<Record<string, readonly Household[]>> = {
  de: [
    house('wohnung', 'Wohnzimmer|Schlafzimmer|Bad|Küche|Arbeitszimmer|Balkon|Diele', '', {
      light: 'Stehlampe|Deckenlicht|Leselampe|Lichterkette|Spiegelschrank|Esstischlampe',
      switch: 'Kaffeemaschine|Steckdose|Wasserkocher|Heizlüfter',
      fan: 'Standventilator|Zimmerventilator',
      cover: 'Rollladen|Jalousie|Markise',
      lock: 'Wohnungstür|Vordertür',
      climate: 'Heizung|Thermostat',
      vacuum: 'Saugroboter|Staubsauger',
      media_player: 'Fernseher|Radio|Soundbar',
      valve: 'Wasserventil',
    }, WILDCARDS.de),
    house('familienhaus', 'Kinderzimmer|Esszimmer|Gästezimmer|Waschküche|Dachboden|Hobbyraum|Gästebad|Ankleide', 'Erdgeschoss|Obergeschoss|Dachgeschoss', {
      light: 'Hängelampe|Nachttischlampe|Spots|Wandleuchte|Arbeitslampe|Nachtlicht',
      switch: 'Waschmaschine|Trockner|Spielkonsole|Ladegerät',
      fan: 'Lüfter|Tischventilator',
      cover: 'Rollo|Dachfenster|Garagenrolltor|Vorhang',
      lock: 'Kellertür|Terrassentür',
      climate: 'Fußbodenheizung|Klimaanlage',
      vacuum: 'Roborock|Wischroboter',
      media_player: 'Lautsprecher|Sonos|Musikanlage',
    }, WILDCARDS.de),
    house('haus mit garten', 'Wintergarten|Werkstatt|Carport|Sauna|Vorratskammer|Gartenhaus|Hauswirtschaftsraum', 'Untergeschoss|erster Stock', {
      light: 'Gartenbeleuchtung|Außenlicht|Hoflampe|Kronleuchter|LED-Streifen',
      switch: 'Pumpe|Teichpumpe|Bewässerung|Weihnachtsbaum',
      cover: 'Tor|Hoftor|Sonnensegel',
      lock: 'Gartentor|Nebeneingang',
      climate: 'Wärmepumpe',
      vacuum: 'Rasenmäher',
      media_player: 'Beamer',
      valve: 'Gartenventil|Hauptwasserhahn',
    }, WILDCARDS.de),
  ],
  fr: [
    house('appartement', 'séjour|chambre d\'amis|salle de bain|cuisine|bureau|balcon|couloir', '', {
      light: 'lampadaire|plafonnier|lampe de lecture|guirlande|applique|suspension',
      switch: 'cafetière|prise|bouilloire|radiateur d\'appoint',
      fan: 'ventilateur|ventilateur sur pied',
      cover: 'volet|store|volet roulant',
      lock: 'porte palière|serrure',
      climate: 'chauffage|thermostat',
      vacuum: 'aspirateur|robot aspirateur',
      media_player: 'télé|radio|enceinte du salon',
      valve: 'vanne d\'eau',
    }, WILDCARDS.fr),
    house('maison familiale', 'chambre des enfants|salle à manger|buanderie|grenier|salle de jeux|dressing|cellier', 'rez-de-chaussée|étage|sous-sol', {
      light: 'lampe de nuit|spots|veilleuse|lampe du bureau|lustre',
      switch: 'lave-linge|séchoir|console|chargeur',
      fan: 'ventilo|climatiseur mobile',
      cover: 'store banne|fenêtre de toit|porte du garage|rideau',
      lock: 'porte de la cave|porte-fenêtre',
      climate: 'plancher chauffant|climatisation',
      vacuum: 'roomba|robot laveur',
      media_player: 'enceinte|sonos|chaîne hi-fi',
    }, WILDCARDS.fr),
    house('maison avec jardin', 'véranda|atelier|abri de jardin|sauna|terrasse|jardin|cave', 'premier étage', {
      light: 'éclairage du jardin|lumière extérieure|lanterne|ruban led',
      switch: 'surpresseur|pompe de la piscine|arrosage|sapin de noël',
      cover: 'portail|porte basculante|pergola',
      lock: 'portillon|porte de service',
      climate: 'PAC',
      vacuum: 'tondeuse',
      media_player: 'vidéoprojecteur',
      valve: 'vanne du jardin|robinet principal',
    }, WILDCARDS.fr),
  ],
  es: [
    house('piso', 'salón|dormitorio|baño|cocina|despacho|balcón|pasillo', '', {
      light: 'lámpara de pie|luz del techo|lámpara de lectura|tira led|aplique|lámpara colgante',
      switch: 'cafetera|enchufe|hervidor|calefactor',
      fan: 'ventilador|ventilador del salón',
      cover: 'persiana|toldo|estor',
      lock: 'puerta de casa|cerradura',
      climate: 'calefacción|termostato',
      vacuum: 'conga|robot aspirador',
      media_player: 'tele|radio|altavoz del salón',
      valve: 'válvula del agua',
    }, WILDCARDS.es),
    house('casa familiar', 'habitación de los niños|comedor|lavadero|desván|cuarto de invitados|vestidor|trastero', 'planta baja|primer piso|sótano', {
      light: 'lámpara de noche|focos|luz de noche|lámpara del escritorio|araña',
      switch: 'lavarropas|secadora|consola|cargador',
      fan: 'ventilador de pie|extractor',
      cover: 'cortina|claraboya|puerta del garaje|persiana del salón',
      lock: 'puerta del sótano|puerta de la terraza',
      climate: 'suelo radiante|aire acondicionado',
      vacuum: 'roomba|robot friegasuelos',
      media_player: 'altavoz|sonos|equipo de música',
    }, WILDCARDS.es),
    house('casa con jardín', 'porche|taller|cobertizo|sauna|terraza|jardín|bodega', 'segundo piso', {
      light: 'luces del jardín|luz exterior|farol|guirnalda',
      switch: 'bomba|depuradora|riego|árbol de navidad',
      cover: 'portón|cancela|pérgola',
      lock: 'puerta del jardín|portilla',
      climate: 'bomba de calor',
      vacuum: 'cortacésped',
      media_player: 'proyector',
      valve: 'válvula del riego|llave general',
    }, WILDCARDS.es),
  ],
  'zh-cn': [
    house('公寓', '客厅|主卧|次卧|卫生间|书房|阳台|餐厅|过道', '', {
      light: '落地灯|吸顶灯|台灯|灯带|射灯|吊灯|主灯',
      switch: '咖啡机|插座|热水壶|电暖器',
      fan: '电风扇|落地扇',
      cover: '窗帘|纱帘|卷帘',
      lock: '入户门|门锁',
      climate: '空调|暖气',
      vacuum: '扫地机器人|扫地机',
      media_player: '电视|音箱|收音机',
      valve: '水阀',
    }, WILDCARDS['zh-cn']),
    house('家庭住宅', '儿童房|老人房|洗衣房|储物间|客房|衣帽间|厨房', '一楼|二楼|地下室', {
      light: '床头灯|夜灯|筒灯|书桌灯|水晶灯',
      switch: '洗衣机|烘干机|游戏机|充电器|饮水机',
      fan: '吊扇|排气扇',
      cover: '遮光帘|天窗|车库门',
      lock: '后院门|阳台门',
      climate: '地暖|新风机',
      vacuum: '洗地机|拖地机器人',
      media_player: '小爱音箱|投影仪',
    }, WILDCARDS['zh-cn']),
    house('带花园的房子', '花园|车库|露台|地下室|茶室|健身房|影音室', '三楼', {
      light: '庭院灯|门口的灯|花园灯|氛围灯',
      switch: '水泵|鱼缸|浇水|圣诞树',
      cover: '大门|院门|遮阳棚',
      lock: '边门|院子门',
      climate: '热水器|中央空调',
      vacuum: '割草机',
      media_player: '家庭影院',
      valve: '花园水阀|总阀',
    }, WILDCARDS['zh-cn']),
  ],
};

/** The household of Home Assistant's `fixtures/<lang>/_fixtures.yaml` (entity domain = the id's prefix). */
export function fixtureHousehold(file: string, language: string): Household {
  const y = parseYaml(readFileSync(file, 'utf8')) as {
    areas?: { name: string }[];
    floors?: { name: string }[];
    entities?: { name: string; id: string }[];
  };
  const names = (a?: { name: string }[]): string[] => (a ?? []).map((x) => String(x.name)).filter(Boolean);
  return {
    name: `fixtures/${language}`,
    areas: names(y.areas),
    floors: names(y.floors),
    entities: (y.entities ?? []).map((e) => ({ name: String(e.name), domain: String(e.id).split('.')[0] })),
    wildcards: WILDCARDS[language] ?? {},
  };
}
